import { PlatformError } from '../errors.js';
import { humanTextProblem, INCIDENT_NOTE, INCIDENT_OWNER, INCIDENT_PAUSE_REASON, INCIDENT_REASON, POSTMORTEM } from '../human-text.js';
import { OUTPUT_SIGNALS } from '../monitoring/case-signals.js';

/**
 * An incident: what monitoring found wrong with one deployment (model version × site), and what people
 * did about it. Alerts open it; while it is not resolved, every new alert of the same deployment joins
 * it (deduplicated: one open incident per deployment, however many detectors fire). Each step is a new
 * revision, stored by compare-and-set and audited (workflows/incidents.ts).
 */

/** An incident's id: `inc-` and a UUID (workflows/incidents.ts opens them as `inc-${randomUUID()}`). */
export const INCIDENT_ID_PATTERN = /^inc-[0-9a-f-]{36}$/;

/**
 * Whether the text has an incident id's form. One check for the API (its path parameter) and the CLI
 * (workflows/incidents.ts), so both answer a malformed id REQUEST_INVALID and only a well-formed one
 * that names nothing INCIDENT_NOT_FOUND.
 */
export function isIncidentId(text: string): boolean {
  return INCIDENT_ID_PATTERN.test(text);
}

export const INCIDENT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type IncidentState = (typeof INCIDENT_STATES)[number];

/**
 * `high`: an output signal alarmed (the calibrated probability, the positive or the refer rate — what
 * the model tells clinicians moved). `medium`: only inputs did (image statistics, gate verdicts,
 * distance from the training data): the images changed, the answers may not have yet. An incident
 * takes the highest severity of its alerts.
 */
export const INCIDENT_SEVERITIES = ['medium', 'high'] as const;
export type IncidentSeverity = (typeof INCIDENT_SEVERITIES)[number];

export const INCIDENT_ACTIONS = ['acknowledge', 'assign', 'note', 'pause', 'rollback', 'resolve'] as const;
export type IncidentActionKind = (typeof INCIDENT_ACTIONS)[number];

export type IncidentAction =
  | { readonly kind: 'acknowledge' }
  | { readonly kind: 'assign'; readonly owner: string }
  | { readonly kind: 'note'; readonly text: string }
  | { readonly kind: 'pause'; readonly reason: string }
  | { readonly kind: 'rollback'; readonly reason: string }
  | { readonly kind: 'resolve'; readonly postmortem: string };

/** One line of an incident's timeline: an alert that joined it, or an action someone took. */
export type IncidentTimelineEntry =
  | {
      readonly kind: 'alert';
      readonly at: string;
      readonly alertId: string;
      readonly detector: string;
      readonly label: string;
    }
  | {
      readonly kind: IncidentActionKind | 'opened';
      readonly at: string;
      readonly by: string;
      /** The note, the pause or rollback reason, the new owner, or the postmortem. */
      readonly text: string | null;
    };

/** Free text bounds (characters): a note, a reason or an owner; and a postmortem. The HTTP contract states the same. */
export const INCIDENT_TEXT_MAX = 2000;
export const POSTMORTEM_MAX = 20_000;

/** A trimmed, non-empty text within `max` characters, or REQUEST_INVALID (the text itself is never quoted). */
function boundedText(text: string, max: number, what: string): string {
  const trimmed = text.trim();
  if (trimmed.length === 0 || trimmed.length > max) throw new PlatformError('REQUEST_INVALID', `The ${what} must be 1 to ${max} characters`, {});
  return trimmed;
}

/** Alerts linked per incident, at most: an incident that collects more keeps counting them (`alertCount`) but lists the first ones. */
export const MAX_LINKED_ALERTS = 200;
/** Timeline entries kept, at most (the audit log keeps every one). */
export const MAX_TIMELINE = 500;

export interface Incident {
  readonly incidentId: string;
  readonly site: string;
  readonly versionId: string;
  readonly state: IncidentState;
  readonly severity: IncidentSeverity;
  /** A user id, or null until someone is assigned (acknowledging assigns the acknowledger if nobody is). */
  readonly owner: string | null;
  /** What first opened it, for lists: the first alert's detector label. */
  readonly title: string;
  readonly alertIds: readonly string[];
  readonly alertCount: number;
  readonly timeline: readonly IncidentTimelineEntry[];
  readonly postmortem: string | null;
  readonly openedAt: string;
  readonly updatedAt: string;
  readonly resolvedAt: string | null;
  /** 1 when opened, +1 per change: the compare-and-set key. */
  readonly revision: number;
}

/** What an incident needs to know of an alert that joins it. */
export interface IncidentAlertRef {
  readonly alertId: string;
  readonly detector: string;
  readonly signal: string;
  readonly label: string;
  readonly at: string;
}

export function severityOf(signal: string): IncidentSeverity {
  return OUTPUT_SIGNALS.has(signal) ? 'high' : 'medium';
}

function higher(a: IncidentSeverity, b: IncidentSeverity): IncidentSeverity {
  return a === 'high' || b === 'high' ? 'high' : 'medium';
}

function capped<T>(list: readonly T[], max: number): readonly T[] {
  return list.length > max ? list.slice(list.length - max) : list;
}

/** A new incident, opened by its first alert. */
export function openIncident(incidentId: string, site: string, versionId: string, alert: IncidentAlertRef): Incident {
  return {
    incidentId,
    site,
    versionId,
    state: 'open',
    severity: severityOf(alert.signal),
    owner: null,
    title: `${alert.label} (${alert.detector})`,
    alertIds: [alert.alertId],
    alertCount: 1,
    timeline: [
      { kind: 'opened', at: alert.at, by: 'monitoring', text: null },
      { kind: 'alert', at: alert.at, alertId: alert.alertId, detector: alert.detector, label: alert.label },
    ],
    postmortem: null,
    openedAt: alert.at,
    updatedAt: alert.at,
    resolvedAt: null,
    revision: 1,
  };
}

/** An alert joins an open incident of its deployment: linked, on the timeline, and the severity raised if it is an output's. */
export function linkAlert(incident: Incident, alert: IncidentAlertRef): Incident {
  if (incident.state === 'resolved') throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'A resolved incident takes no more alerts', {});
  if (incident.alertIds.includes(alert.alertId)) return incident;
  return {
    ...incident,
    severity: higher(incident.severity, severityOf(alert.signal)),
    alertIds: incident.alertIds.length < MAX_LINKED_ALERTS ? [...incident.alertIds, alert.alertId] : incident.alertIds,
    alertCount: incident.alertCount + 1,
    timeline: capped(
      [...incident.timeline, { kind: 'alert', at: alert.at, alertId: alert.alertId, detector: alert.detector, label: alert.label }],
      MAX_TIMELINE,
    ),
    updatedAt: alert.at,
    revision: incident.revision + 1,
  };
}

/**
 * Who acts from the server host's command line (`vigil incident …`): no account, so never an owner. An
 * owner is always an account (by user id) someone can reach: acknowledging from the command line leaves
 * the owner as it is; `vigil incident assign` names one.
 */
export const COMMAND_LINE_ACTOR = 'local-cli';

/**
 * One action on an incident, by `by` (a user id, or COMMAND_LINE_ACTOR) at `at`. Nothing is done to a resolved incident; a
 * resolution needs a postmortem. Pausing and rolling back are recorded here once the deployment
 * change they ask for was made (workflows/incidents.ts makes it first).
 */
export function applyIncidentAction(incident: Incident, action: IncidentAction, by: string, at: string): Incident {
  // The text an action carries, by the human-text rule (the API checks the same schemas first; here it holds for the CLI and any caller).
  const text = actionText(action);
  const problem = text === undefined ? undefined : humanTextProblem(text.rule, text.value);
  if (text !== undefined && problem !== undefined) throw new PlatformError('REQUEST_INVALID', `The ${text.field}: ${problem}`, { field: text.field });
  if (incident.state === 'resolved') {
    throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'The incident is resolved: nothing more is done to it', { action: action.kind });
  }
  const entry = (text: string | null): IncidentTimelineEntry => ({ kind: action.kind, at, by, text });
  const next = (changes: Partial<Incident>, text: string | null): Incident => ({
    ...incident,
    ...changes,
    timeline: capped([...incident.timeline, entry(text)], MAX_TIMELINE),
    updatedAt: at,
    revision: incident.revision + 1,
  });
  switch (action.kind) {
    case 'acknowledge':
      if (incident.state !== 'open') throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'The incident is acknowledged already', { action: action.kind });
      return next({ state: 'acknowledged', owner: incident.owner ?? (by === COMMAND_LINE_ACTOR ? null : by) }, null);
    case 'assign': {
      const owner = boundedText(action.owner, 128, 'owner');
      return next({ owner }, owner);
    }
    case 'note':
      return next({}, boundedText(action.text, INCIDENT_TEXT_MAX, 'note'));
    case 'pause':
    case 'rollback':
      return next({}, boundedText(action.reason, INCIDENT_TEXT_MAX, 'reason'));
    case 'resolve': {
      if (action.postmortem.trim().length === 0)
        throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'A resolution needs a postmortem', { action: action.kind });
      const postmortem = boundedText(action.postmortem, POSTMORTEM_MAX, 'postmortem');
      return next({ state: 'resolved', postmortem, resolvedAt: at }, postmortem);
    }
  }
}

/** The free text an action carries, with its field name and rule (domain/human-text.ts); none for acknowledge. */
function actionText(action: IncidentAction): { readonly field: string; readonly rule: typeof INCIDENT_NOTE; readonly value: string } | undefined {
  switch (action.kind) {
    case 'acknowledge':
      return undefined;
    case 'assign':
      return { field: 'owner', rule: INCIDENT_OWNER, value: action.owner };
    case 'note':
      return { field: 'text', rule: INCIDENT_NOTE, value: action.text };
    case 'pause':
      return { field: 'reason', rule: INCIDENT_PAUSE_REASON, value: action.reason };
    case 'rollback':
      return { field: 'reason', rule: INCIDENT_REASON, value: action.reason };
    case 'resolve':
      return { field: 'postmortem', rule: POSTMORTEM, value: action.postmortem };
  }
}
