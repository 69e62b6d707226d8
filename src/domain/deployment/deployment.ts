import { humanTextProblem, PAUSE_REASON } from '../human-text.js';
import { PlatformError } from '../errors.js';

/**
 * What judges a site's studies: its production model version, at most one candidate beside it (in
 * shadow, or judging a canary share of studies), and whether the site is paused. Pure: each change
 * returns the next state or throws a coded error, and `routeStudy` says who judges one study.
 *
 * A change is made by compare-and-set on `generation` (ports/deployment-store.ts), so two servers
 * changing one site at once cannot both win, and a crash leaves the old state or the new one.
 */
export interface DeploymentCandidate {
  readonly versionId: string;
  readonly mode: 'shadow' | 'canary';
  /** Canary only: the share of the site's studies (chosen by study key) the candidate judges. */
  readonly fraction: number | null;
  /** The release request it runs under (null for an operator's direct change). */
  readonly requestId: string | null;
}

export interface SiteDeployment {
  readonly site: string;
  /** The version judging the site's studies; null before anything is deployed there. */
  readonly production: string | null;
  /** The release request that made `production` what it is (null: the initial deployment). */
  readonly productionRequestId: string | null;
  /** Earlier production versions, oldest first: rollback restores the last of them. */
  readonly history: readonly string[];
  readonly candidate: DeploymentCandidate | null;
  /** Paused: no model judges; every study goes to human review with this reason. */
  readonly paused: { readonly reason: string; readonly by: string; readonly at: string } | null;
  /** 0 before the first change; +1 with each. */
  readonly generation: number;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

export type DeploymentChange =
  | { readonly kind: 'deploy'; readonly versionId: string; readonly requestId: string | null }
  | { readonly kind: 'start_shadow'; readonly versionId: string; readonly requestId: string | null }
  | { readonly kind: 'start_canary'; readonly versionId: string; readonly fraction: number; readonly requestId: string | null }
  | { readonly kind: 'promote' }
  | { readonly kind: 'end_candidate' }
  | { readonly kind: 'pause'; readonly reason: string }
  | { readonly kind: 'resume' }
  | { readonly kind: 'rollback' };

export const DEPLOYMENT_CHANGE_KINDS = ['deploy', 'start_shadow', 'start_canary', 'promote', 'end_candidate', 'pause', 'resume', 'rollback'] as const;

/** A site with nothing deployed (generation 0: the store has no row for it yet). */
export function emptyDeployment(site: string): SiteDeployment {
  return {
    site,
    production: null,
    productionRequestId: null,
    history: [],
    candidate: null,
    paused: null,
    generation: 0,
    updatedAt: new Date(0).toISOString(),
    updatedBy: 'system',
  };
}

const refused = (site: string, message: string): PlatformError => new PlatformError('DEPLOYMENT_CHANGE_INVALID', message, { site });

/** Applies one change; DEPLOYMENT_CHANGE_INVALID says why one cannot be made. */
export function applyDeploymentChange(current: SiteDeployment, change: DeploymentChange, by: string, now: string): SiteDeployment {
  const next = (changes: Partial<SiteDeployment>): SiteDeployment => ({
    ...current,
    ...changes,
    generation: current.generation + 1,
    updatedAt: now,
    updatedBy: by,
  });
  const site = current.site;
  switch (change.kind) {
    case 'deploy': {
      if (change.versionId === current.production) throw refused(site, 'That version is in production at the site already');
      return next({
        production: change.versionId,
        productionRequestId: change.requestId,
        history: current.production === null ? current.history : [...current.history, current.production],
        candidate: current.candidate?.versionId === change.versionId ? null : current.candidate,
      });
    }
    case 'start_shadow':
    case 'start_canary': {
      if (current.production === null) throw refused(site, 'A candidate runs beside a production version; the site has none');
      if (change.versionId === current.production) throw refused(site, 'The candidate is the production version');
      if (current.candidate !== null && current.candidate.versionId !== change.versionId) {
        throw refused(site, 'Another candidate is running at the site; end it first');
      }
      if (change.kind === 'start_canary' && !(change.fraction > 0 && change.fraction < 1)) throw refused(site, 'A canary fraction is between 0 and 1');
      return next({
        candidate: {
          versionId: change.versionId,
          mode: change.kind === 'start_shadow' ? 'shadow' : 'canary',
          fraction: change.kind === 'start_canary' ? change.fraction : null,
          requestId: change.requestId,
        },
      });
    }
    case 'promote': {
      const candidate = current.candidate;
      if (candidate === null) throw refused(site, 'There is no candidate to promote');
      return next({
        production: candidate.versionId,
        productionRequestId: candidate.requestId,
        history: current.production === null ? current.history : [...current.history, current.production],
        candidate: null,
      });
    }
    case 'end_candidate':
      if (current.candidate === null) throw refused(site, 'There is no candidate to end');
      return next({ candidate: null });
    case 'pause':
      if (current.paused !== null) throw refused(site, 'The site is paused already');
      if (change.reason.trim() === '') throw refused(site, 'A pause needs a reason');
      {
        // The API and the CLI check the same rule first; here it holds for any caller.
        const problem = humanTextProblem(PAUSE_REASON, change.reason);
        if (problem !== undefined) throw refused(site, `A pause reason: ${problem}`);
      }
      return next({ paused: { reason: change.reason.trim(), by, at: now } });
    case 'resume':
      if (current.paused === null) throw refused(site, 'The site is not paused');
      return next({ paused: null });
    case 'rollback': {
      const previous = current.history.at(-1);
      if (previous === undefined) throw refused(site, 'There is no earlier production version to roll back to');
      // The rolled-back version leaves for good (not pushed onto the history): a second rollback goes further back.
      return next({ production: previous, productionRequestId: null, history: current.history.slice(0, -1), candidate: null });
    }
  }
}

/** Who judges one study, and why nobody does. */
export type StudyRoute =
  | { readonly kind: 'judge'; readonly versionId: string; readonly route: 'production' | 'canary'; readonly shadow: string | null }
  | { readonly kind: 'human_review'; readonly reason: 'deployment_paused' | 'no_production_version'; readonly detail: string };

/**
 * Routes one study. `canaryDraw` is the study's number in [0, 1) (from its key, deterministically, so
 * the same study always goes the same way, and a study re-judged after more instances keeps its route).
 */
export function routeStudy(deployment: SiteDeployment, canaryDraw: number): StudyRoute {
  if (deployment.paused !== null) return { kind: 'human_review', reason: 'deployment_paused', detail: deployment.paused.reason };
  if (deployment.production === null) {
    return { kind: 'human_review', reason: 'no_production_version', detail: `No model version is deployed at site "${deployment.site}"` };
  }
  const candidate = deployment.candidate;
  if (candidate?.mode === 'canary' && candidate.fraction !== null && canaryDraw < candidate.fraction) {
    return { kind: 'judge', versionId: candidate.versionId, route: 'canary', shadow: null };
  }
  return { kind: 'judge', versionId: deployment.production, route: 'production', shadow: candidate?.mode === 'shadow' ? candidate.versionId : null };
}
