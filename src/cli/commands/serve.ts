import { EXIT_OK } from '../exit-codes.js';
import type { SeedOutcome } from '../../workflows/seed-demo.js';
import type { MonitoringStreamOutcome } from '../../workflows/seed-monitoring-stream.js';
import { parseCommandArgs, usageError, type Command } from './command.js';

const USAGE = 'serve [--demo]';

export const serveCommand: Command = {
  usage: `${USAGE}\n      run the server: DICOM C-STORE on VIGIL_DICOM_PORT (default 11112, AE VIGIL), the HTTP API and dashboard on VIGIL_HTTP_PORT (default 8080);
      received studies are de-identified, stored, assembled and judged. --demo (what \`npm start\` runs) also seeds
      an empty store with the public sample data (VIGIL_SAMPLE_DATA) through the real ingest`,
  async run(args, { io, startServer, stopRequested }) {
    const { positionals, values } = parseCommandArgs(args, { demo: { type: 'boolean' } }, USAGE);
    if (positionals.length > 0) throw usageError('serve takes no arguments', USAGE);
    const server = await startServer();
    io.stdout(`Vigil is listening: dashboard ${server.url}, API ${server.url}/api (OpenAPI ${server.url}/api/openapi.json), DICOM ${server.dicom}\n`);
    if (server.bootstrap !== undefined) {
      io.stdout(
        [
          '',
          `First start: an administrator account "${server.bootstrap.userName}" was created. Its API token, shown this once:`,
          '',
          `    ${server.bootstrap.token}`,
          '',
          'Keep it somewhere safe: only its hash is stored. Log in to the dashboard with it, or send it as',
          '"Authorization: Bearer <token>" to create accounts (POST /api/users). It manages accounts only:',
          'for clinical data and sending studies, give each job a token of its role, e.g. in another shell here',
          "    . scripts/ensure-node.sh            # Node 24 on that shell's PATH, if its node is older",
          '    npx vigil users token --user reader-1 --role clinician-reviewer',
          '    npx vigil users token --user pacs --role integration',
          'Lost it? On this host, `npx vigil users token --user admin` issues a new one (audited).',
          '',
        ].join('\n'),
      );
    }
    if (values.demo === true) {
      const seeded = await server.seedDemo();
      io.stdout(describeSeed(seeded, server.dicom) + '\n');
      // The monitors' demo runs in the background (bounded; stopped on close): the dashboard is usable meanwhile.
      if (seeded.status === 'seeded') {
        void server.streamDemoMonitoring().then((outcome) => {
          if (outcome !== undefined) io.stdout(describeStream(outcome) + '\n');
        });
        io.stdout(STREAM_NOTE + '\n');
      }
    }
    await stopRequested();
    io.stdout('Stopping…\n');
    await server.close();
    return EXIT_OK;
  },
};

const STREAM_NOTE =
  'Monitoring demo: PneumoniaMNIST val images are being sent as the demo device, then the same kind of images with their contrast lowered (x0.7) ' +
  'from another device, "portable-b"; the monitors should detect the shift and open an incident by themselves within minutes (dashboard Monitoring and Incidents).';

function describeStream(outcome: MonitoringStreamOutcome): string {
  const sent = `${outcome.inDistribution} in-distribution and ${outcome.shifted} contrast-shifted images`;
  return outcome.status === 'sent' ? `Monitoring demo: sent ${sent}.` : `Monitoring demo: stopped (${outcome.reason}) after ${sent}.`;
}

function describeSeed(outcome: SeedOutcome, dicom: string): string {
  const send = `Send studies with DCMTK (as they are, compressed or not): dcmsend -aec ${dicom.split('@')[0] ?? 'VIGIL'} ${dicom.split('@')[1]?.replace(':', ' ') ?? '127.0.0.1 11112'} <files>`;
  switch (outcome.status) {
    case 'skipped':
      return `Demo data: not seeded, the store already holds studies. ${send}`;
    case 'no-sample-data':
      return [...outcome.notes, send].join('\n');
    case 'seeded':
      return [
        ...outcome.notes,
        `Demo data seeded through the ingest: ${outcome.instances} DICOM instances and ${outcome.images} device images received` +
          (outcome.refused > 0 ? `, ${outcome.refused} files refused by the ingest (not DICOM, unreadable, or without a Study Instance UID)` : '') +
          '. Studies are judged once complete (VIGIL_STUDY_QUIET_MS after their last instance).',
        ...(outcome.release === undefined
          ? []
          : [
              `A release request (${outcome.release.requestId}, ${outcome.release.state}): a Platt recalibration of the demo, fitted on half of its ` +
                'validation split for the demonstration, gates run on the pinned split; it waits for a qa-regulatory and a clinician-reviewer ' +
                `signature (dashboard Releases, or vigil release show ${outcome.release.requestId}).`,
            ]),
        send,
      ].join('\n');
  }
}
