/**
 * The status a command ends with when the reader of its output has gone (`vigil audit | head -1`):
 * 141 = 128 + SIGPIPE, what a shell reports for a command a closed pipe ended (`yes | head -1`).
 */
export const EXIT_CLOSED_PIPE = 141;

interface OutputStream {
  on(event: 'error', listener: (error: NodeJS.ErrnoException) => void): unknown;
}

/**
 * The CLI's output edge: a write to a pipe whose reader has closed fails with EPIPE, which Node
 * raises as an 'error' event — unhandled, a stack trace. For every command, EPIPE on stdout ends the
 * process quietly with EXIT_CLOSED_PIPE (nothing more can be said to a reader that has gone), and on
 * stderr is ignored; any other output error is left to crash as before.
 *
 * @example endQuietlyOnClosedPipe(process.stdout, process.stderr, (code) => process.exit(code))
 */
export function endQuietlyOnClosedPipe(stdout: OutputStream, stderr: OutputStream, exit: (code: number) => void): void {
  stdout.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
    exit(EXIT_CLOSED_PIPE);
  });
  stderr.on('error', (error) => {
    if (error.code !== 'EPIPE') throw error;
  });
}
