import { EXIT_OK } from '../exit-codes.js';
import { parseCommandArgs, usageError, type Command } from './command.js';

const USAGE = 'serve';

export const serveCommand: Command = {
  usage: `${USAGE}\n      run the server: DICOM C-STORE on VIGIL_DICOM_PORT (default 11112, AE VIGIL), the HTTP API on VIGIL_HTTP_PORT (default 8080);
      received studies are de-identified, stored, assembled and judged`,
  async run(args, { io, startServer, stopRequested }) {
    const { positionals } = parseCommandArgs(args, {}, USAGE);
    if (positionals.length > 0) throw usageError('serve takes no arguments', USAGE);
    const server = await startServer();
    io.stdout(`Vigil is listening: HTTP ${server.url} (API ${server.url}/api, OpenAPI ${server.url}/api/openapi.json), DICOM ${server.dicom}\n`);
    if (server.bootstrap !== undefined) {
      io.stdout(
        [
          '',
          `First start: an administrator account "${server.bootstrap.userName}" was created. Its API token, shown this once:`,
          '',
          `    ${server.bootstrap.token}`,
          '',
          'Keep it somewhere safe: only its hash is stored. Use it as "Authorization: Bearer <token>" to create accounts (POST /api/users).',
          '',
        ].join('\n'),
      );
    }
    await stopRequested();
    io.stdout('Stopping…\n');
    await server.close();
    return EXIT_OK;
  },
};
