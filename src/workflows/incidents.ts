import { hasPermission, type Role } from '../domain/access/roles.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import {
  applyIncidentAction,
  COMMAND_LINE_ACTOR,
  isIncidentId,
  linkAlert,
  openIncident,
  type Incident,
  type IncidentAction,
  type IncidentAlertRef,
  type IncidentState,
  type IncidentTimelineEntry,
} from '../domain/incident/incident.js';
import type { Clock } from '../ports/clock.js';
import type { Hasher } from '../ports/hasher.js';
import type { IncidentStore } from '../ports/incident-store.js';
import type { DeploymentKey, MonitorStore } from '../ports/monitor-store.js';
import { alertView, type MonitoringNotice } from './monitoring-views.js';
import type { ReleaseActor } from './releases.js';

/** What filing an alert into an incident needs. */
export interface IncidentNotices {
  readonly incidents: IncidentStore;
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  readonly notify: (notice: MonitoringNotice) => void;
  readonly hasher: Hasher;
  readonly newId: () => string;
}

const MAX_ATTEMPTS = 8;

function auditOf(hasher: Hasher, incident: Incident, action: string, by: string, alertId: string | null, text: string | null): AuditEvent {
  return {
    type: 'incident_changed',
    incidentId: incident.incidentId,
    site: incident.site,
    versionId: incident.versionId,
    action,
    state: incident.state,
    severity: incident.severity,
    owner: incident.owner,
    revision: incident.revision,
    alertId,
    textSha256: text === null ? null : hasher.sha256Hex(text),
    by,
  };
}

function noticeOf(incident: Incident, action: string): MonitoringNotice {
  return {
    kind: 'incident',
    incidentId: incident.incidentId,
    site: incident.site,
    versionId: incident.versionId,
    action,
    state: incident.state,
    severity: incident.severity,
    at: incident.updatedAt,
  };
}

/**
 * Files an alert: it opens its deployment's incident, or joins the one not yet resolved (one per
 * deployment, however many alarms and servers: the store refuses a second open incident, and a joining
 * alert is written by compare-and-set). Audited and announced.
 */
export async function raiseIncident(deps: IncidentNotices, key: DeploymentKey, alert: IncidentAlertRef): Promise<Incident> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const open = await deps.incidents.openFor(key.site, key.versionId);
    if (open === undefined) {
      const created = openIncident(`inc-${deps.newId()}`, key.site, key.versionId, alert);
      if (!(await deps.incidents.create(created))) continue;
      await deps.recordAudit(auditOf(deps.hasher, created, 'opened', 'monitoring', alert.alertId, null));
      deps.notify(noticeOf(created, 'opened'));
      return created;
    }
    const linked = linkAlert(open, alert);
    if (linked === open) return open;
    if (!(await deps.incidents.compareAndSet(linked))) continue;
    await deps.recordAudit(auditOf(deps.hasher, linked, 'alert_linked', 'monitoring', alert.alertId, null));
    deps.notify(noticeOf(linked, 'alert_linked'));
    return linked;
  }
  throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'The incident kept changing while an alert was filed', { site: key.site });
}

export interface IncidentDependencies extends IncidentNotices {
  readonly alerts: Pick<MonitorStore, 'getAlert'>;
  /**
   * The site changes an incident's pause and rollback ask for, through the existing operations
   * (workflows/releases.ts `pause`, `rollback`: audited as `deployment_changed`, effective for the next
   * study any server judges; a rollback restores the previous production bundle by its hash).
   */
  readonly pause: (actor: ReleaseActor, site: string, reason: string) => Promise<unknown>;
  readonly rollback: (actor: ReleaseActor, site: string) => Promise<unknown>;
  /**
   * The account a user id names: an incident is assigned only to an enabled one, and owners and actors
   * are shown by its login name.
   */
  readonly userById: (userId: string) => Promise<{ readonly disabled: boolean; readonly name: string; readonly role: Role } | undefined>;
  readonly clock: Clock;
}

/**
 * An incident as people read it: the owner and each action's actor by name beside the stored id. Names
 * are looked up when read (an account's name is its current login name); `monitoring` and `local-cli`
 * (the host's command line) are their own names; an id no account has any more reads as null.
 */
export type NamedIncident = Omit<Incident, 'timeline'> & {
  readonly ownerName: string | null;
  /** Each entry with its actor's name; an `assign` entry also with the new owner's (its text is the owner's user id). */
  readonly timeline: readonly (IncidentTimelineEntry & { readonly byName: string | null; readonly assigneeName: string | null })[];
};

/**
 * Incidents: read them and act on them (issue 12 §4). Each action is one workflow call: the incident's
 * new revision by compare-and-set, then its audit entry and a notice. Pausing and rolling back act on
 * the deployment first (through Deployments: audited there as `deployment_changed`), so the incident
 * records only what took effect.
 */
export class Incidents {
  readonly #deps: IncidentDependencies;

  constructor(deps: IncidentDependencies) {
    this.#deps = deps;
  }

  async list(filter: { readonly state?: IncidentState; readonly site?: string; readonly limit: number }): Promise<readonly NamedIncident[]> {
    const incidents = await this.#deps.incidents.list(filter);
    const names = this.#names();
    return Promise.all(incidents.map((i) => named(i, names)));
  }

  async show(incidentId: string): Promise<{ readonly incident: NamedIncident; readonly alerts: readonly ReturnType<typeof alertView>[] }> {
    const incident = await this.#get(incidentId);
    const alerts = await Promise.all(incident.alertIds.map((id) => this.#deps.alerts.getAlert(id)));
    return { incident: await named(incident, this.#names()), alerts: alerts.filter((a) => a !== undefined).map(alertView) };
  }

  /** One action by a user (its id) or the command line. A pause or rollback changes the site's deployment first. */
  async act(incidentId: string, action: IncidentAction, actor: ReleaseActor): Promise<NamedIncident> {
    return named(await this.#act(incidentId, action, actor), this.#names());
  }

  /** A user id's current login name, each id looked up once per call. */
  #names(): (userId: string) => Promise<string | null> {
    const cache = new Map<string, Promise<string | null>>();
    return (userId) => {
      if (userId === COMMAND_LINE_ACTOR || userId === 'monitoring') return Promise.resolve(userId);
      let name = cache.get(userId);
      if (name === undefined) {
        name = this.#deps.userById(userId).then((u) => u?.name ?? null);
        cache.set(userId, name);
      }
      return name;
    };
  }

  async #act(incidentId: string, action: IncidentAction, actor: ReleaseActor): Promise<Incident> {
    const by = actor.kind === 'user' ? actor.userId : COMMAND_LINE_ACTOR;
    const before = await this.#get(incidentId);
    // Refused before any deployment change: a resolved incident pauses nothing.
    applyIncidentAction(before, action, by, this.#deps.clock.now().toISOString());
    if (action.kind === 'assign') {
      // The text rule held (above); the owner must be someone who can act on it: an enabled account whose
      // role manages incidents (an integration or auditor account could not even read it).
      const owner = await this.#deps.userById(action.owner.trim());
      if (owner === undefined || owner.disabled || !hasPermission(owner.role, 'incidents:manage')) {
        throw new PlatformError(
          'INCIDENT_OWNER_INVALID',
          'An incident is assigned to an enabled user whose role manages incidents, by user id (vigil users list, GET /api/users)',
          {},
        );
      }
    }
    if (action.kind === 'pause') await this.#deps.pause(actor, before.site, `incident ${incidentId}: ${action.reason}`);
    if (action.kind === 'rollback') await this.#deps.rollback(actor, before.site);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = attempt === 0 ? before : await this.#get(incidentId);
      const next = applyIncidentAction(current, action, by, this.#deps.clock.now().toISOString());
      if (!(await this.#deps.incidents.compareAndSet(next))) continue;
      await this.#deps.recordAudit(auditOf(this.#deps.hasher, next, action.kind, by, null, textOf(action)));
      this.#deps.notify(noticeOf(next, action.kind));
      return next;
    }
    throw new PlatformError('INCIDENT_TRANSITION_INVALID', 'Another change to this incident was made at the same moment; read it again', {});
  }

  async #get(incidentId: string): Promise<Incident> {
    if (!isIncidentId(incidentId)) throw new PlatformError('REQUEST_INVALID', 'Not an incident id: inc- and a UUID, as listed', {});
    const incident = await this.#deps.incidents.get(incidentId);
    if (incident === undefined) throw new PlatformError('INCIDENT_NOT_FOUND', 'No incident has that id', {});
    return incident;
  }
}

async function named(incident: Incident, nameOf: (userId: string) => Promise<string | null>): Promise<NamedIncident> {
  return {
    ...incident,
    ownerName: incident.owner === null ? null : await nameOf(incident.owner),
    timeline: await Promise.all(
      incident.timeline.map(async (e) => ({
        ...e,
        byName: e.kind === 'alert' ? null : await nameOf(e.by),
        assigneeName: e.kind === 'assign' && e.text !== null ? await nameOf(e.text) : null,
      })),
    ),
  };
}

function textOf(action: IncidentAction): string | null {
  switch (action.kind) {
    case 'acknowledge':
      return null;
    case 'assign':
      return action.owner;
    case 'note':
      return action.text;
    case 'pause':
    case 'rollback':
      return action.reason;
    case 'resolve':
      return action.postmortem;
  }
}
