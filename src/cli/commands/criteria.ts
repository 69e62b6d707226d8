import { EXIT_OK } from '../exit-codes.js';
import { parseCommandArgs, usageError, type Command } from './command.js';

const USAGE = 'criteria register FILE [--json]';

export const criteriaCommand: Command = {
  usage: `${USAGE}\n      fix acceptance criteria in the audit log (SHA-256, criteria, time) before the evaluation that will be judged by them`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, USAGE);
    if (sub !== 'register') throw usageError('criteria needs "register FILE"', USAGE);
    const [file] = positionals;
    if (file === undefined || positionals.length > 1) throw usageError('criteria register takes one criteria file', USAGE);
    const r = await services().registerCriteria(file);
    if (values.json === true) {
      io.stdout(JSON.stringify({ auditId: r.auditId, time: r.time, sha256: r.sha256, appended: r.appended, criteria: r.criteria.map((c) => c.text) }) + '\n');
    } else {
      io.stdout(
        `${r.appended ? 'registered' : 'already registered'}: ${r.criteria.length} criteria, SHA-256 ${r.sha256}, audit entry ${r.auditId} at ${r.time}\n`,
      );
    }
    return EXIT_OK;
  },
};
