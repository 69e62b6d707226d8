/**
 * The composition root: the entry point, wiring nothing itself. Each capability is wired in its own
 * file under composition/ (stores, ingest, results, models, dashboard, the DICOM receiver, the
 * services and the server); the CLI and the HTTP server receive the finished services and never see
 * an adapter.
 */
import { endQuietlyOnClosedPipe } from './cli/closed-pipe.js';
import { EXIT_CODES } from './cli/exit-codes.js';
import { runCli } from './cli/run-cli.js';
import { loadConfig, type VigilConfig } from './config/load-config.js';
import { toPlatformError } from './domain/errors.js';
import { createLogger } from './logging/create-logger.js';
import { createApiServer } from './composition/server.js';
import { createServices } from './composition/services.js';

export { createApiServer, type ApiServer } from './composition/server.js';
export { createServices } from './composition/services.js';
export { hashConfig, VIGIL_VERSION } from './composition/settings.js';

/** Entry point for bin/vigil.js: returns the process exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<number> {
  // `vigil … | head -1`: the reader going away ends the command quietly, not with an EPIPE stack trace.
  endQuietlyOnClosedPipe(process.stdout, process.stderr, (code) => process.exit(code));
  const io = {
    stdout: (text: string) => void process.stdout.write(text),
    stderr: (text: string) => void process.stderr.write(text),
    interactive: process.stderr.isTTY,
  };
  let config: VigilConfig;
  try {
    config = loadConfig(env, cwd);
  } catch (cause) {
    const error = toPlatformError(cause);
    io.stderr(`vigil: ${error.code}: ${error.message}\n`);
    return EXIT_CODES[error.code];
  }
  const logger = createLogger(config.logLevel);
  return runCli(argv, () => createServices(config, logger), io, {
    async startServer() {
      const server = await createApiServer(config, logger, { background: true });
      const address = await server.app.listen({ host: config.httpHost, port: config.httpPort });
      return {
        url: address,
        dicom: `${config.dicomAeTitle}@${config.dicomHost}:${server.dicomPort ?? config.dicomPort}`,
        ...(server.bootstrap === undefined ? {} : { bootstrap: server.bootstrap }),
        seedDemo: () => server.seedDemo(),
        streamDemoMonitoring: () => server.streamDemoMonitoring(),
        close: () => server.close(),
      };
    },
    stopRequested: () =>
      new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
  });
}
