import { humanTextProblem, PAUSE_REASON } from '../../domain/human-text.js';
import type { SiteDeployment } from '../../domain/deployment/deployment.js';
import { shortVersionId } from '../../domain/registry/model-version.js';
import type { LedgerAnswer } from '../../workflows/deployment-ledger.js';
import { EXIT_OK } from '../exit-codes.js';
import { parseCommandArgs, printList, stringOption, usageError, type Command } from './command.js';
import { localActor } from './users.js';

const ISO_DATE_TIME = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

const USAGE = [
  'deploy status [--json]',
  '      deploy ledger --site SITE [--at ISO-8601] [--json]',
  '      deploy pause --site SITE --reason TEXT | deploy resume --site SITE | deploy rollback --site SITE [--json]',
].join('\n');

function deploymentLine(d: SiteDeployment): string {
  const production =
    d.production === null
      ? 'nothing deployed'
      : `production ${shortVersionId(d.production)}${d.productionRequestId === null ? '' : ` (${d.productionRequestId})`}`;
  const candidate =
    d.candidate === null
      ? ''
      : `, ${d.candidate.mode} ${shortVersionId(d.candidate.versionId)}${d.candidate.fraction === null ? '' : ` on ${d.candidate.fraction} of studies`}`;
  const paused = d.paused === null ? '' : `, PAUSED by ${d.paused.by} at ${d.paused.at}: ${d.paused.reason}`;
  const history = d.history.length === 0 ? '' : `; rollback restores ${shortVersionId(d.history.at(-1) ?? '')}`;
  return `${d.site}: ${production}${candidate}${paused}${history} (generation ${d.generation}, ${d.updatedAt} by ${d.updatedBy})\n`;
}

/** The ledger's answer as a reader wants it: the version, since when and by whose change, and the signatures. */
function ledgerText(answer: LedgerAnswer): string {
  const d = answer.deployment;
  if (d === null) return `${answer.site} at ${answer.at}: nothing was deployed yet\n`;
  const model = answer.model === null ? '' : ` (${answer.model.id} ${answer.model.version})`;
  const lines = [
    `${answer.site} at ${answer.at}: ${d.production === null ? 'nothing in production' : `version ${shortVersionId(d.production)}${model}`}` +
      `${d.pausedReason === null ? '' : ` — PAUSED: ${d.pausedReason}`}`,
    `  since ${d.citation.time}: ${d.change} by ${d.changedBy} (audit ${d.citation.auditId}, generation ${d.generation})`,
  ];
  const signed = (a: LedgerAnswer['approvals'][number], indent: string): string =>
    `${indent}signed "${a.meaning}" by ${a.signerName} (${a.role}) at ${a.citation.time}, re-authenticated by ${a.reauthenticatedBy} (audit ${a.citation.auditId})`;
  const requested = (r: NonNullable<LedgerAnswer['release']>): string =>
    `release ${r.requestId} (${r.changeType}) requested by ${r.requestedBy} (${r.requesterRole}) at ${r.citation.time} (audit ${r.citation.auditId})`;
  const r = answer.release;
  if (r === null) lines.push("  released by no request (the initial deployment, or an operator's direct change)");
  else if (d.change === 'rollback') lines.push(`  restored by a rollback by ${d.changedBy}; originally ${requested(r)}`);
  else lines.push(`  ${requested(r)}`);
  for (const a of answer.approvals) lines.push(signed(a, '  '));
  if (d.candidate !== null) {
    lines.push(
      `  beside it: ${d.candidate.mode} ${shortVersionId(d.candidate.versionId)}${d.candidate.fraction === null ? '' : ` on ${d.candidate.fraction} of studies`}`,
    );
    const c = answer.candidateRelease;
    lines.push(c === null ? "    under no request (an operator's direct change)" : `    under ${requested(c)}`);
    for (const a of answer.candidateApprovals) lines.push(signed(a, '    '));
  }
  return lines.join('\n') + '\n';
}

/**
 * `vigil deploy`: what judges each site, and the operator's direct changes without a request: pause
 * (every study to human review, with the reason), resume, and rollback to the previous production
 * version by its hash. Audited `deployment_changed` as `local-cli`; effective for the next study any
 * server judges, without a restart.
 */
export const deployCommand: Command = {
  usage: `${USAGE}\n      show what judges each site; pause or resume a site; roll a site back to its previous production version`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(
      rest,
      { json: { type: 'boolean' }, site: { type: 'string' }, reason: { type: 'string' }, at: { type: 'string' } },
      USAGE,
    );
    if (positionals.length > 0) throw usageError(`deploy ${sub ?? ''} takes no positional arguments`, USAGE);
    if (sub === 'ledger') {
      const at = stringOption(values.at);
      // As strict as the API's `at` (an ISO 8601 date-time with its offset): Date's own parser answers "1" or "hello 2001" with a year.
      const when = at === undefined ? new Date() : new Date(ISO_DATE_TIME.test(at) ? at : Number.NaN);
      if (Number.isNaN(when.getTime())) throw usageError('deploy ledger --at takes an ISO 8601 time (e.g. 2026-12-07T14:00:00Z)', USAGE);
      const site = stringOption(values.site);
      if (site === undefined) throw usageError('deploy ledger needs --site SITE', USAGE);
      const answer = await services().deploymentLedger(site, when);
      io.stdout(values.json === true ? JSON.stringify(answer) + '\n' : ledgerText(answer));
      return EXIT_OK;
    }
    const releases = await services().releases();
    const print = (d: SiteDeployment): number => {
      io.stdout(values.json === true ? JSON.stringify(d) + '\n' : deploymentLine(d));
      return EXIT_OK;
    };
    const site = (): string => {
      const s = stringOption(values.site);
      if (s === undefined) throw usageError(`deploy ${sub ?? ''} needs --site SITE`, USAGE);
      return s;
    };
    switch (sub ?? '') {
      case 'status': {
        const all = await releases.deployments();
        if (values.json === true) io.stdout(JSON.stringify({ deployments: all }) + '\n');
        else printList(io, all, deploymentLine, 'No deployments.');
        return EXIT_OK;
      }
      case 'pause': {
        const reason = stringOption(values.reason);
        if (reason === undefined) throw usageError('deploy pause needs --reason TEXT (shown with every study sent to review)', USAGE);
        // The API's rule, the same schema (domain/human-text.ts): one line, at most 500 characters, no control, bidi or invisible formatting characters.
        const problem = humanTextProblem(PAUSE_REASON, reason);
        if (problem !== undefined) throw usageError(`deploy pause --reason: ${problem}`, USAGE);
        return print(await releases.pause(localActor(), site(), reason));
      }
      case 'resume':
        return print(await releases.resume(localActor(), site()));
      case 'rollback':
        return print(await releases.rollback(localActor(), site()));
      default:
        throw usageError('deploy needs status, ledger, pause, resume or rollback', USAGE);
    }
  },
};
