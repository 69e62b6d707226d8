import { z } from 'zod';

/**
 * Free text a person types and others read later (a pause reason, a review comment, a token label):
 * shown in terminals, the dashboard and the audit trail, so it must not carry characters that act
 * instead of being read. Refused: the C0 and C1 control characters (ESC sequences, carriage return,
 * NUL…), DEL, the bidirectional overrides, isolates and marks that reorder what a reader sees (the
 * "Trojan Source" characters, CVE-2021-42574), and the invisible formatting characters that hide or
 * split text without showing (zero-width space U+200B, word joiner and invisible operators
 * U+2060–U+2064, the byte-order mark U+FEFF): a reason that reads "drift" may otherwise not be the
 * text "drift", and two labels that look alike may differ. The zero-width joiner and non-joiner
 * (U+200C, U+200D) are allowed: Persian, the Indic scripts and emoji sequences need them to be
 * written at all. A line break and a tab are allowed only where the text is meant to hold several lines.
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
// (U+202A–U+202E), isolates (U+2066–U+2069) and marks (LRM U+200E, RLM U+200F, ALM U+061C); the line
// and paragraph separators (U+2028, U+2029); and the invisible formatting characters (U+200B, U+2060–U+2064, U+FEFF).
const BIDI_AND_INVISIBLE = '\\u202a-\\u202e\\u2066-\\u2069\\u200e\\u200f\\u061c\\u2028\\u2029\\u200b\\u2060-\\u2064\\ufeff';
// A lone surrogate (U+D800–U+DFFF not part of a pair) is no character at all: it cannot be encoded as
// UTF-8 and shows as a replacement mark, so two texts that look alike may differ. With the `u` flag a
// class of surrogates matches only unpaired ones (a pair is one code point).
const ACTING_CHARACTERS = new RegExp(`[\\p{Cc}${BIDI_AND_INVISIBLE}\\ud800-\\udfff]`, 'u');
const ACTING_CHARACTERS_BUT_LINES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_AND_INVISIBLE}\\ud800-\\udfff]`, 'u');
/** What is refused, as the messages say it. */
const REFUSED = 'no control, bidi or invisible formatting characters';

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
    rule.multiline === true ? `${REFUSED} (line breaks and tabs allowed)` : `one line, ${REFUSED}`,
  );
}

/**
 * Human text inside a document someone authored and signed off (a model manifest): the same rule,
 * but refused rather than trimmed when it has surrounding white space — the document is hashed and
 * reviewed as written, and a finding label is a key the decision policy must match exactly.
 */
export function authoredTextSchema(rule: HumanTextRule): z.ZodString {
  return z
    .string()
    .max(rule.maxChars, `at most ${rule.maxChars} characters`)
    .min(rule.allowEmpty === true ? 0 : 1, 'not empty')
    .refine((text) => text === text.trim(), 'no leading or trailing white space')
    .refine(
      (text) => !hasActingCharacters(text, rule.multiline === true),
      rule.multiline === true ? `${REFUSED} (line breaks and tabs allowed)` : `one line, ${REFUSED}`,
    );
}

/** Why a site is paused, shown with every study sent to review while it is (`vigil deploy pause --reason`, `POST /api/deployments/{site}/pause`). */
export const PAUSE_REASON = humanTextSchema({ maxChars: 500 });
/** A reviewer's comment on a read (several lines). */
export const REVIEW_COMMENT = humanTextSchema({ maxChars: 2000, multiline: true, allowEmpty: true });
/** An incident's note (several lines). */
export const INCIDENT_NOTE = humanTextSchema({ maxChars: 2000, multiline: true });
/** Why an incident rolls its site back (one line). */
export const INCIDENT_REASON = humanTextSchema({ maxChars: 2000 });
/** Why an incident pauses its site: the site's pause reason is `incident <id>: <this>`, within PAUSE_REASON's 500 characters. */
export const INCIDENT_PAUSE_REASON = humanTextSchema({ maxChars: 440 });
/** A resolved incident's postmortem: what happened, why, what was done (several lines). */
export const POSTMORTEM = humanTextSchema({ maxChars: 20_000, multiline: true });
/** Whom an incident is assigned to: a user id, one line. */
export const INCIDENT_OWNER = humanTextSchema({ maxChars: 128 });
/** An API token's label, shown in lists and the dashboard. */
export const TOKEN_LABEL = humanTextSchema({ maxChars: 64 });

/** The first problem of a value under a human-text schema, as `expectation`; undefined when it is valid. */
export function humanTextProblem(schema: z.ZodString, value: string): string | undefined {
  const result = schema.safeParse(value);
  return result.success ? undefined : (result.error.issues[0]?.message ?? 'invalid');
}
