import { runCli } from '../../src/cli/run-cli.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logging/create-logger.js';
import { createServices } from '../../src/main.js';
import { REPO_ROOT } from './sample-data.js';

export interface VigilRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Every log line written, at debug level. */
  readonly logs: string;
}

/** Runs one CLI command in-process through the real composition root, capturing everything it writes. */
export async function runVigil(argv: readonly string[], dataDir: string, env: Record<string, string> = {}): Promise<VigilRun> {
  let stdout = '';
  let stderr = '';
  let logs = '';
  const config = loadConfig({ VIGIL_DATA_DIR: dataDir, VIGIL_LOG_LEVEL: 'debug', VIGIL_INTRA_OP_THREADS: '1', ...env }, REPO_ROOT);
  const logger = createLogger('debug', { write: (line: string) => void (logs += line) });
  const code = await runCli(argv, () => createServices(config, logger), {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    interactive: false,
  });
  return { code, stdout, stderr, logs };
}

export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as T);
}
