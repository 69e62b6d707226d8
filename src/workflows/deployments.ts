import type { AuditEvent, DeploymentChangedEvent } from '../domain/audit/audit-event.js';
import {
  applyDeploymentChange,
  emptyDeployment,
  routeStudy,
  type DeploymentChange,
  type SiteDeployment,
  type StudyRoute,
} from '../domain/deployment/deployment.js';
import type { SitesConfig } from '../domain/deployment/sites.js';
import { PlatformError } from '../domain/errors.js';
import type { AuditSearch } from '../ports/audit-search.js';
import type { Clock } from '../ports/clock.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { Hasher } from '../ports/hasher.js';
import type { ModelRegistry } from '../ports/model-registry.js';
import { scanAudit } from './scan-audit.js';

export interface DeploymentDependencies {
  readonly store: DeploymentStore;
  readonly registry: ModelRegistry;
  readonly sites: SitesConfig;
  readonly hasher: Hasher;
  readonly clock: Clock;
  /** Appends to the audit log; resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  /** The same audit log, searched: which deployment changes it holds (reconcileAudit). */
  readonly auditSearch: AuditSearch;
  /**
   * How long reconciling waits before recovering an unaudited change (default 1 s): a change in flight
   * at a live server is audited within milliseconds of its store write, a killed process's never is, so
   * looking again after this pause does not double a live server's entry.
   */
  readonly auditSettleMs?: number;
}

/** Audit entries read per page while looking for sites' newest deployment changes. */
const AUDIT_PAGE = 200;

/**
 * Deployments per site: reading them, changing them (one audited compare-and-set each, effective for
 * the next study any server judges: no restart), and routing a study to the version that judges it.
 */
export class Deployments {
  readonly #deps: DeploymentDependencies;

  constructor(deps: DeploymentDependencies) {
    this.#deps = deps;
  }

  get sites(): SitesConfig {
    return this.#deps.sites;
  }

  /** A configured site's deployment (generation 0 when nothing was ever deployed there). */
  async status(site: string): Promise<SiteDeployment> {
    this.#configured(site);
    return (await this.#deps.store.get(site)) ?? emptyDeployment(site);
  }

  /** Every configured site's deployment, in the configuration's order. */
  async list(): Promise<readonly SiteDeployment[]> {
    const stored = new Map((await this.#deps.store.list()).map((d) => [d.site, d]));
    return this.#deps.sites.sites.map((s) => stored.get(s.id) ?? emptyDeployment(s.id));
  }

  /**
   * Makes one change at a site, over the state read now. Versions named must be registered (their
   * bytes are in the archive, so what is deployed can always be loaded and rolled back to by hash).
   * The change is audited after it is stored; another server's change at the same moment makes this
   * one fail (DEPLOYMENT_CHANGE_INVALID) rather than apply over a state its caller never saw.
   */
  async change(site: string, change: DeploymentChange, by: string): Promise<SiteDeployment> {
    const current = await this.status(site);
    if (change.kind === 'deploy' || change.kind === 'start_shadow' || change.kind === 'start_canary') {
      if ((await this.#deps.registry.get(change.versionId)) === undefined) {
        throw new PlatformError('MODEL_VERSION_NOT_FOUND', 'No registered model version has that id (register it first: vigil model register)', {});
      }
    }
    const next = applyDeploymentChange(current, change, by, this.#deps.clock.now().toISOString());
    // The state this change replaces must be in the log first: its writer may have died before auditing it.
    if (current.generation > 0) await this.#reconcile([current]);
    if (!(await this.#deps.store.compareAndSet(next))) {
      throw new PlatformError('DEPLOYMENT_CHANGE_INVALID', 'Another change to this site was made at the same moment; read its deployment again', { site });
    }
    await this.#deps.recordAudit({
      type: 'deployment_changed',
      site,
      change: change.kind,
      generation: next.generation,
      production: next.production,
      productionRequestId: next.productionRequestId,
      previousProduction: current.production,
      candidate: next.candidate,
      pausedReason: next.paused?.reason ?? null,
      by,
    });
    return next;
  }

  /**
   * Closes the one gap between the store and the audit log. A change is stored (compare-and-set) and
   * then audited, two writes to two places; a process killed between them leaves a stored state the
   * log never saw, and the log is what answers "which version judged site S at time T". So at server
   * start (and before each change, over the state it replaces), every site whose stored generation is
   * newer than the newest audited `deployment_changed` for it gets that entry now, marked `recovered`
   * with the time the change was stored. Returns the deployments whose entry was recovered.
   *
   * A store write whose entry is missing may also be a live server's change in flight (two servers
   * starting at once), so the entry is recovered only if it is still missing after `auditSettleMs`. An
   * audit append slower than that, or two servers recovering one state at once, repeats the state in the
   * log (each copy marked, the same state): a duplicate, never a gap.
   *
   * Only the last state can be recovered: a second change at the same site overwrites the row. That is
   * why `change` reconciles first: no change is stored over a state that is not in the log.
   */
  async reconcileAudit(): Promise<readonly SiteDeployment[]> {
    return this.#reconcile(await this.#deps.store.list());
  }

  async #reconcile(stored: readonly SiteDeployment[]): Promise<readonly SiteDeployment[]> {
    if ((await this.#unaudited(stored)).length === 0) return [];
    await new Promise((resolve) => setTimeout(resolve, this.#deps.auditSettleMs ?? 1_000));
    const again = await Promise.all(stored.map((d) => this.#deps.store.get(d.site)));
    const recovered: SiteDeployment[] = [];
    for (const { deployment, last } of await this.#unaudited(again.filter((d) => d !== undefined))) {
      await this.#deps.recordAudit({
        type: 'deployment_changed',
        site: deployment.site,
        change: 'unknown',
        generation: deployment.generation,
        production: deployment.production,
        productionRequestId: deployment.productionRequestId,
        previousProduction: last?.production ?? null,
        candidate: deployment.candidate,
        pausedReason: deployment.paused?.reason ?? null,
        by: deployment.updatedBy,
        recovered: { changedAt: deployment.updatedAt, lastAuditedGeneration: last?.generation ?? 0 },
      });
      recovered.push(deployment);
    }
    return recovered;
  }

  /** The stored states newer than their site's newest audited change, each with that change (if any). */
  async #unaudited(stored: readonly SiteDeployment[]): Promise<{ deployment: SiteDeployment; last: DeploymentChangedEvent | undefined }[]> {
    const audited = await this.#newestAudited(new Set(stored.map((d) => d.site)));
    return stored.flatMap((deployment) => {
      const last = audited.get(deployment.site);
      return deployment.generation > (last?.generation ?? 0) ? [{ deployment, last }] : [];
    });
  }

  /** The newest `deployment_changed` entry of each site, searching the log newest first until each is found. */
  async #newestAudited(sites: ReadonlySet<string>): Promise<Map<string, DeploymentChangedEvent>> {
    const found = new Map<string, DeploymentChangedEvent>();
    if (sites.size === 0) return found;
    await scanAudit(this.#deps.auditSearch, { type: 'deployment_changed', pageSize: AUDIT_PAGE }, ({ event }) => {
      if (event.type === 'deployment_changed' && sites.has(event.site) && !found.has(event.site)) found.set(event.site, event);
      return found.size === sites.size;
    });
    return found;
  }

  /**
   * The first deployment of every configured site that has none: the configured model (VIGIL_MODEL_DIR),
   * registered. Sites deployed already keep what they run: after the first start, versions change by
   * release (or an operator's audited change), not by editing the configuration. Returns the sites
   * whose production version differs from the configured one, for the caller to report.
   */
  async deployInitial(versionId: string): Promise<readonly SiteDeployment[]> {
    const differing: SiteDeployment[] = [];
    for (const current of await this.list()) {
      if (current.generation === 0) {
        // Two servers starting at once: the loser's compare-and-set fails; it reads the winner's state.
        await this.change(current.site, { kind: 'deploy', versionId, requestId: null }, 'system').catch(async (error: unknown) => {
          if ((await this.#deps.store.get(current.site)) === undefined) throw error;
        });
      } else if (current.production !== versionId) differing.push(current);
    }
    return differing;
  }

  /** Who judges a study of the site: by the site's deployment now, and the study key's canary draw. */
  async route(site: string, studyKey: string): Promise<{ readonly deployment: SiteDeployment; readonly route: StudyRoute }> {
    const deployment = (await this.#deps.store.get(site)) ?? emptyDeployment(site);
    return { deployment, route: routeStudy(deployment, canaryDraw(this.#deps.hasher, studyKey)) };
  }

  #configured(site: string): void {
    if (!this.#deps.sites.sites.some((s) => s.id === site)) throw new PlatformError('DEPLOYMENT_NOT_FOUND', 'No configured site has that id', {});
  }
}

/** A study's number in [0, 1) for canary routing: from its key, so it is the same on every server and every re-judging. */
export function canaryDraw(hasher: Hasher, studyKey: string): number {
  return Number.parseInt(hasher.sha256Hex(`canary:${studyKey}`).slice(0, 12), 16) / 2 ** 48;
}
