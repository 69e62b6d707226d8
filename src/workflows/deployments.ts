import type { AuditEvent } from '../domain/audit/audit-event.js';
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
import type { Clock } from '../ports/clock.js';
import type { DeploymentStore } from '../ports/deployment-store.js';
import type { Hasher } from '../ports/hasher.js';
import type { ModelRegistry } from '../ports/model-registry.js';

export interface DeploymentDependencies {
  readonly store: DeploymentStore;
  readonly registry: ModelRegistry;
  readonly sites: SitesConfig;
  readonly hasher: Hasher;
  readonly clock: Clock;
  /** Appends to the audit log; resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
}

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
