import type { IncidentAction } from '../../domain/incident/incident.js';
import { shortVersionId } from '../../domain/registry/model-version.js';
import type { MonitorStatus } from '../../workflows/monitoring.js';
import type { NamedIncident } from '../../workflows/incidents.js';
import { EXIT_OK } from '../exit-codes.js';
import { parseCommandArgs, printList, stringOption, usageError, type Command } from './command.js';
import { localActor } from './users.js';

const MONITOR_USAGE = 'monitor status [--site SITE] [--json] | monitor alerts [--site SITE] [--limit N] [--json]';
const INCIDENT_USAGE = [
  'incident list [--state open|acknowledged|resolved] [--site SITE] [--json] | incident show ID [--json]',
  '      incident ack ID | incident assign ID --owner USER_ID | incident note ID --text TEXT',
  '      incident pause ID --reason TEXT | incident rollback ID --reason TEXT | incident resolve ID --postmortem TEXT',
].join('\n');

function statusLine(s: MonitorStatus): string {
  const who = `${s.site} ${s.role}${s.versionId === null ? '' : ` ${shortVersionId(s.versionId)}`}`;
  if (s.state === 'not_deployed') return `${who}: nothing deployed\n`;
  const state =
    s.state === 'collecting_baseline' && s.baseline !== null
      ? `collecting baseline ${s.baseline.collected}/${s.baseline.needed}`
      : `monitoring (reference: ${s.reference?.kind ?? '?'} of ${s.reference?.cases ?? 0} images)`;
  const nearest =
    s.nearest === null ? '' : `; nearest threshold: ${s.nearest.label} (${s.nearest.detector}) at ${(100 * s.nearest.fractionOfThreshold).toFixed(0)} %`;
  const incident = s.openIncident === null ? '' : `; INCIDENT ${s.openIncident.incidentId} (${s.openIncident.severity}, ${s.openIncident.state})`;
  const paused = s.pausedReason === null ? '' : `; PAUSED: ${s.pausedReason}`;
  return `${who}: ${state}, ${s.cases} images, ${s.alerts} alerts${nearest}${incident}${paused}\n`;
}

function incidentText(i: NamedIncident, full: boolean): string {
  const head = `${i.incidentId} ${i.state.toUpperCase()} ${i.severity} ${i.site} ${shortVersionId(i.versionId)}: ${i.title}; ${i.alertCount} alerts; owner ${i.owner === null ? 'none' : (i.ownerName ?? i.owner)}; opened ${i.openedAt}\n`;
  if (!full) return head;
  const lines = i.timeline.map((e) =>
    e.kind === 'alert'
      ? `  ${e.at} alert ${e.alertId} ${e.detector}`
      : `  ${e.at} ${e.kind} by ${e.byName ?? e.by}${e.text === null ? '' : `: ${e.assigneeName ?? e.text}`}`,
  );
  return head + lines.join('\n') + '\n' + (i.postmortem === null ? '' : `postmortem: ${i.postmortem}\n`);
}

/** `vigil monitor`: each deployment's monitors (baseline, nearest threshold, alerts, open incident), and the alerts. */
export const monitorCommand: Command = {
  usage: `${MONITOR_USAGE}\n      production monitoring per deployment (docs/monitoring.md, "In the server")`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' }, site: { type: 'string' }, limit: { type: 'string' } }, MONITOR_USAGE);
    if (positionals.length > 0) throw usageError(`monitor ${sub ?? ''} takes no positional arguments`, MONITOR_USAGE);
    const site = stringOption(values.site);
    const { monitoring } = await services().monitoring();
    switch (sub ?? '') {
      case 'status': {
        const all = (await monitoring.overview()).filter((s) => site === undefined || s.site === site);
        if (values.json === true) io.stdout(JSON.stringify({ deployments: all }) + '\n');
        else printList(io, all, statusLine, site === undefined ? 'No deployments.' : 'No deployment at that site.');
        return EXIT_OK;
      }
      case 'alerts': {
        const limit = Number(stringOption(values.limit) ?? '20');
        if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw usageError('monitor alerts --limit takes 1 to 500', MONITOR_USAGE);
        const alerts = await monitoring.alerts({ limit, ...(site === undefined ? {} : { site }) });
        if (values.json === true) io.stdout(JSON.stringify({ alerts }) + '\n');
        else
          printList(
            io,
            alerts,
            (a) => {
              // MMD² lives near 0 (hundredths): more digits than a CUSUM's statistic needs.
              const against =
                a.effect.kind === 'embedding-mmd'
                  ? `MMD²=${a.statistic.toPrecision(3)} > ${a.threshold.toPrecision(3)}`
                  : `S=${a.statistic.toFixed(2)} ≥ h=${a.threshold.toFixed(2)}`;
              return (
                `${a.createdAt} ${a.site} ${shortVersionId(a.versionId)} ${a.summary} (${a.detector}): ${against}, ` +
                `run ${a.runLength}; incident ${a.incidentId ?? 'none'}; examples ${a.exampleCaseIds.slice(0, 3).join(', ')}\n`
              );
            },
            'No alerts.',
          );
        return EXIT_OK;
      }
      default:
        throw usageError('monitor needs status or alerts', MONITOR_USAGE);
    }
  },
};

/** `vigil incident`: list and read incidents; act on one (each action audited, as `local-cli`). */
export const incidentCommand: Command = {
  usage: `${INCIDENT_USAGE}\n      incidents opened by monitoring alerts: acknowledge, assign, annotate, pause or roll back the deployment, resolve`,
  async run(args, { io, services }) {
    const [sub, ...rest] = args;
    const { values, positionals } = parseCommandArgs(
      rest,
      {
        json: { type: 'boolean' },
        site: { type: 'string' },
        state: { type: 'string' },
        owner: { type: 'string' },
        text: { type: 'string' },
        reason: { type: 'string' },
        postmortem: { type: 'string' },
      },
      INCIDENT_USAGE,
    );
    const { incidents } = await services().monitoring();
    const print = (i: NamedIncident, full: boolean): number => {
      io.stdout(values.json === true ? JSON.stringify(i) + '\n' : incidentText(i, full));
      return EXIT_OK;
    };
    if (sub === 'list') {
      const state = stringOption(values.state);
      if (state !== undefined && state !== 'open' && state !== 'acknowledged' && state !== 'resolved')
        throw usageError('--state is open, acknowledged or resolved', INCIDENT_USAGE);
      const site = stringOption(values.site);
      const list = await incidents.list({ limit: 100, ...(state === undefined ? {} : { state }), ...(site === undefined ? {} : { site }) });
      if (values.json === true) io.stdout(JSON.stringify({ incidents: list }) + '\n');
      else printList(io, list, (i) => incidentText(i, false), 'No incidents.');
      return EXIT_OK;
    }
    const [id, ...extra] = positionals;
    if (id === undefined || extra.length > 0) throw usageError(`incident ${sub ?? ''} takes one incident id`, INCIDENT_USAGE);
    const need = (value: string | undefined, option: string): string => {
      if (value === undefined) throw usageError(`incident ${sub ?? ''} needs --${option}`, INCIDENT_USAGE);
      return value;
    };
    let action: IncidentAction;
    switch (sub ?? '') {
      case 'show': {
        const shown = await incidents.show(id);
        if (values.json === true) io.stdout(JSON.stringify(shown) + '\n');
        else io.stdout(incidentText(shown.incident, true));
        return EXIT_OK;
      }
      case 'ack':
        action = { kind: 'acknowledge' };
        break;
      case 'assign':
        action = { kind: 'assign', owner: need(stringOption(values.owner), 'owner USER_ID') };
        break;
      case 'note':
        action = { kind: 'note', text: need(stringOption(values.text), 'text TEXT') };
        break;
      case 'pause':
        action = { kind: 'pause', reason: need(stringOption(values.reason), 'reason TEXT') };
        break;
      case 'rollback':
        action = { kind: 'rollback', reason: need(stringOption(values.reason), 'reason TEXT') };
        break;
      case 'resolve':
        action = { kind: 'resolve', postmortem: need(stringOption(values.postmortem), 'postmortem TEXT') };
        break;
      default:
        throw usageError('incident needs list, show, ack, assign, note, pause, rollback or resolve', INCIDENT_USAGE);
    }
    return print(await incidents.act(id, action, localActor()), true);
  },
};
