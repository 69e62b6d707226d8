import { EXIT_CODES, EXIT_OK } from '../exit-codes.js';
import { parseCommandArgs, usageError, type Command } from './command.js';

const USAGE = 'audit verify [--json] | audit prove <auditId> [--json] | audit public-key';

export const auditCommand: Command = {
  usage: `${USAGE}\n      recompute the audit log's Merkle tree and check every signed head; print an inclusion proof; or print the log's public key (PEM) for verifiers`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' } }, USAGE);
    const json = values.json === true;
    if (sub === 'verify') {
      if (positionals.length > 0) throw usageError('audit verify takes no arguments', USAGE);
      const result = await services().verifyAudit();
      if (json) io.stdout(JSON.stringify(result) + '\n');
      else if (result.ok)
        io.stdout(`audit log OK: ${result.treeSize} entries, root ${result.rootHash}, ${result.checkedTreeHeads} signed tree heads checked\n`);
      else io.stdout(`audit log FAILED at entry ${result.firstBadAuditId} (index ${result.firstBadIndex} of ${result.treeSize}): ${result.reason}\n`);
      return result.ok ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
    }
    if (sub === 'prove') {
      const [auditId] = positionals;
      if (auditId === undefined || positionals.length > 1) throw usageError('audit prove takes one audit id', USAGE);
      const { proof, verified } = await services().proveAudit(auditId);
      if (json) io.stdout(JSON.stringify({ ...proof, verified }) + '\n');
      else {
        io.stdout(
          [
            `entry ${proof.auditId} is leaf ${proof.leafIndex} of a tree of ${proof.treeSize}`,
            `leaf hash ${proof.leafHash}`,
            `audit path (${proof.auditPath.length} hashes):`,
            ...proof.auditPath.map((h) => `  ${h}`),
            `root ${proof.rootHash} (signed tree head of ${proof.treeHead.time})`,
            `proof ${verified ? 'verifies' : 'DOES NOT verify'}`,
          ].join('\n') + '\n',
        );
      }
      return verified ? EXIT_OK : EXIT_CODES.AUDIT_VERIFY_FAILED;
    }
    if (sub === 'public-key') {
      if (positionals.length > 0) throw usageError('audit public-key takes no arguments', USAGE);
      io.stdout(await services().auditPublicKey());
      return EXIT_OK;
    }
    throw usageError('audit needs "verify", "prove <auditId>" or "public-key"', USAGE);
  },
};
