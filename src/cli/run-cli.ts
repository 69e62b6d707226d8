import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import type { CliIo, CommandContext, CommandIo } from './commands/command.js';
import { COMMANDS } from './commands/index.js';
import { EXIT_CODES, EXIT_OK } from './exit-codes.js';
import { printableText } from './printable-text.js';

export type { CliIo } from './commands/command.js';

export function usageText(): string {
  const lines = Object.values(COMMANDS).map((c) => `  vigil ${c.usage}`);
  return [
    'Usage: vigil <command> [options]',
    '',
    ...lines,
    '  vigil help',
    '',
    'Environment: VIGIL_DATA_DIR (default ./vigil-data), VIGIL_MODEL_DIR, VIGIL_SAMPLE_DATA, VIGIL_LOG_LEVEL, …',
    '(see README.md, "Configuration").',
  ].join('\n');
}

/**
 * Runs one command and returns its exit code. Errors are printed as `code: message` (or as JSON
 * with --json) and mapped to exit codes here, at the edge, and nowhere else.
 */
export interface CliEdges {
  readonly startServer: CommandContext['startServer'];
  readonly stopRequested: CommandContext['stopRequested'];
}

const NO_SERVER: CliEdges = {
  startServer: () => Promise.reject(new PlatformError('INTERNAL', 'No server is wired into this CLI')),
  stopRequested: () => new Promise<void>(() => {}),
};

export async function runCli(argv: readonly string[], services: () => VigilServices, raw: CliIo, edges: CliEdges = NO_SERVER): Promise<number> {
  // Everything printed is printable: stored text cannot drive the reader's terminal (printable-text.ts).
  const io: CommandIo = {
    stdout: (text) => raw.stdout(printableText(text)),
    stderr: (text) => raw.stderr(printableText(text)),
    interactive: raw.interactive,
    progress: raw.stderr,
  };
  const json = argv.includes('--json');
  let opened: VigilServices | undefined;
  const open = (): VigilServices => (opened ??= services());
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      io.stdout(usageText() + '\n');
      return name === undefined ? EXIT_CODES.CLI_USAGE : EXIT_OK;
    }
    const command = COMMANDS[name];
    if (command === undefined) throw new PlatformError('CLI_USAGE', `unknown command "${name}"\n\n${usageText()}`);
    // Asked for help is not a usage error: print the command's usage and succeed, before the
    // command parses anything (or opens a store, or starts a server). Tokens after "--" are operands.
    const options = rest.includes('--') ? rest.slice(0, rest.indexOf('--')) : rest;
    if (options.includes('--help') || options.includes('-h')) {
      io.stdout(`Usage: vigil ${command.usage}\n`);
      return EXIT_OK;
    }
    return await command.run(rest, { io, services: open, startServer: edges.startServer, stopRequested: edges.stopRequested });
  } catch (cause) {
    const error = toPlatformError(cause);
    if (json) io.stdout(JSON.stringify({ error: { code: error.code, message: error.message } }) + '\n');
    else io.stderr(`vigil: ${error.code}: ${error.message}\n`);
    return EXIT_CODES[error.code];
  } finally {
    await opened?.close();
  }
}
