import { z } from 'zod';

/**
 * Free text a person types and others read later (a pause reason, a review comment, a token label):
 * shown in terminals, the dashboard and the audit trail, so it must not carry characters that act
 * instead of being read. Refused: the C0 and C1 control characters (ESC sequences, carriage return,
 * NUL…), DEL, and the bidirectional overrides and isolates that reorder what a reader sees (the
 * "Trojan Source" characters, CVE-2021-42574). A line break and a tab are allowed only where the text
 * is meant to hold several lines.
 *
 * One rule for the CLI and the HTTP API: both validate with `humanTextSchema` (the HTTP contract with
 * the same schema object the CLI parses its option with), so the bound and the refusal are the same.
 */
export interface HumanTextRule {
  /** Characters (UTF-16 code units, as zod counts), after trimming. */
  readonly maxChars: number;
  /** Whether `\n` and `\t` are allowed (several lines); otherwise one line. */
  readonly multiline?: boolean;
  /** Whether the empty text is allowed (an optional comment); otherwise at least one character. */
  readonly allowEmpty?: boolean;
}

// Cc is C0 (U+0000–U+001F), DEL (U+007F) and C1 (U+0080–U+009F); then the bidi embeddings, overrides
// (U+202A–U+202E) and isolates (U+2066–U+2069), and the line and paragraph separators (U+2028, U+2029).
const ACTING_CHARACTERS = /[\p{Cc}\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;
const ACTING_CHARACTERS_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/u;

/** Whether the text holds a character that acts rather than reads (see the rule above). */
export function hasActingCharacters(text: string, multiline = false): boolean {
  return (multiline ? ACTING_CHARACTERS_BUT_LINES : ACTING_CHARACTERS).test(text);
}

/**
 * The zod schema of one kind of human text: trimmed, bounded, no acting characters. Messages name the
 * expectation and never quote the text.
 *
 * @example humanTextSchema({ maxChars: 500 }).parse('  scanner replaced  ') // 'scanner replaced'
 */
export function humanTextSchema(rule: HumanTextRule): z.ZodString {
  const base = z.string().trim().max(rule.maxChars, `at most ${rule.maxChars} characters`);
  return (rule.allowEmpty === true ? base : base.min(1, 'not empty')).refine(
    (text) => !hasActingCharacters(text, rule.multiline === true),
    rule.multiline === true ? 'no control characters (line breaks and tabs allowed)' : 'one line, no control characters',
  );
}

/** Why a site is paused, shown with every study sent to review while it is (`vigil deploy pause --reason`, `POST /api/deployments/{site}/pause`). */
export const PAUSE_REASON = humanTextSchema({ maxChars: 500 });
/** A reviewer's comment on a read (several lines). */
export const REVIEW_COMMENT = humanTextSchema({ maxChars: 2000, multiline: true, allowEmpty: true });
/** An API token's label, shown in lists and the dashboard. */
export const TOKEN_LABEL = humanTextSchema({ maxChars: 64 });

/** The first problem of a value under a human-text schema, as `expectation`; undefined when it is valid. */
export function humanTextProblem(schema: z.ZodString, value: string): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : (result.error.issues[0]?.message ?? 'invalid');
}
