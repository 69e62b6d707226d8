/**
 * Text as the CLI prints it: every character that would act on a terminal instead of being read —
 * C0 controls but the line feed and the tab (ESC sequences, carriage return, backspace, NUL…), DEL,
 * the C1 controls (U+009B is a one-character CSI on some terminals), the bidirectional overrides and
 * isolates, and the line and paragraph separators — is written as a visible `\uXXXX` escape.
 *
 * Applied once, at the CLI's edge (run-cli.ts wraps stdout and stderr with it), so that stored text
 * (a pause reason, a user name, a gate summary, a message quoting a file) can never drive the
 * reader's terminal, whatever command prints it. Inside a JSON string, `\uXXXX` is the same
 * character, so `--json` output stays valid JSON of the same value.
 *
 * @example printableText('paused\u001b[2J') // 'paused\\u001b[2J'
 */
export function printableText(text: string): string {
  return text.replace(ACTING, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const ACTING = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
