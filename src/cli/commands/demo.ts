import { reportedCalibrationError } from '../../domain/calibration/display-probability.js';
import { EXIT_CODES, EXIT_OK } from '../exit-codes.js';
import { formatResult } from '../format-result.js';
import { createProgressLine } from '../progress-line.js';
import type { Command } from './command.js';

export const demoCommand: Command = {
  usage:
    'demo\n      judge the public sample data with the demo model, then verify the audit log (the one-shot tour; `npm start` runs the server seeded with the same data)',
  async run(_args, context) {
    const { io } = context;
    const services = context.services();
    const { runs, notes } = await services.prepareDemo();
    for (const note of notes) io.stdout(note + '\n');
    const totals = { decided: 0, rejected: 0, errors: 0 };
    // Probabilities are printed at the precision the demo model's calibration supports.
    const calibrationError = runs.length === 0 ? undefined : reportedCalibrationError((await services.currentModel()).manifest);
    for (const run of runs) {
      io.stdout(`\n== ${run.title}\n`);
      const progress = io.interactive ? createProgressLine(io.progress) : undefined;
      const counts = await services.predict(
        run.paths,
        run.declared === undefined ? {} : { declared: run.declared },
        (r) => {
          progress?.clear();
          io.stdout(formatResult(r, calibrationError) + '\n');
        },
        progress === undefined ? undefined : (p) => progress.update(p.filesDone, p.filesTotal),
      );
      progress?.clear();
      totals.decided += counts.decided;
      totals.rejected += counts.rejected;
      totals.errors += counts.errors;
    }
    if (runs.length === 0) return EXIT_OK;
    const verification = await services.verifyAudit();
    io.stdout(
      `\n${totals.decided} decided, ${totals.rejected} rejected by the gate, ${totals.errors} failed.\n` +
        (verification.ok
          ? `Audit log verified: ${verification.treeSize} entries, root ${verification.rootHash}.\n`
          : `Audit log FAILED verification at entry ${verification.firstBadAuditId}.\n`) +
        `Next: npx vigil predict <files or folders> --json · npx vigil audit prove <auditId> · npx vigil model inspect models/pneumonia-demo\n`,
    );
    return verification.ok ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
  },
};
