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
  /**
   * Beside `history`, entry for entry: the release request that had put each earlier version in
   * production (null: the initial deployment or an operator's change). A rollback restores it with the
   * version, so the ledger still names the request and signatures that approved what runs again.
   */
  readonly historyRequestIds: readonly (string | null)[];
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

/**
 * The share of a site's studies a canary may judge: at least 1 % (fewer is no canary: at a site's
 * volume it would judge almost nothing, so its live evidence would never accumulate) and at most half
 * (beyond that the candidate judges most studies, which is a promotion without the approval for one).
 */
export const CANARY_FRACTION_MIN = 0.01;
export const CANARY_FRACTION_MAX = 0.5;

/** Whether a canary fraction is in the allowed range (a finite number in [CANARY_FRACTION_MIN, CANARY_FRACTION_MAX]). */
export function isCanaryFraction(fraction: number): boolean {
  return Number.isFinite(fraction) && fraction >= CANARY_FRACTION_MIN && fraction <= CANARY_FRACTION_MAX;
}

export const CANARY_FRACTION_RULE = `A canary fraction is between ${CANARY_FRACTION_MIN} and ${CANARY_FRACTION_MAX} of the site's studies`;

/**
 * Normalises a deployment read from storage: a state stored before `historyRequestIds` existed gets
 * null for each earlier version (nobody recorded which request had put it there).
 */
export function withHistoryRequestIds(
  deployment: Omit<SiteDeployment, 'historyRequestIds'> & { readonly historyRequestIds?: readonly (string | null)[] },
): SiteDeployment {
  const ids = deployment.historyRequestIds ?? [];
  const n = deployment.history.length;
  // Aligned on the newest entries (a rollback pops from the end); the oldest missing ones are unknown.
  const aligned = ids.length >= n ? ids.slice(ids.length - n) : [...new Array<null>(n - ids.length).fill(null), ...ids];
  return { ...deployment, historyRequestIds: aligned };
}

export const DEPLOYMENT_CHANGE_KINDS = ['deploy', 'start_shadow', 'start_canary', 'promote', 'end_candidate', 'pause', 'resume', 'rollback'] as const;

/** A site with nothing deployed (generation 0: the store has no row for it yet). */
export function emptyDeployment(site: string): SiteDeployment {
  return {
    site,
    production: null,
    productionRequestId: null,
    history: [],
    historyRequestIds: [],
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
      // A candidate beside the old production ends with it: its shadow compared against (and its request's
      // evidence was about) a baseline that is no longer production.
      return next({ production: change.versionId, productionRequestId: change.requestId, ...pushedHistory(current), candidate: null });
    }
    case 'start_shadow':
    case 'start_canary': {
      if (current.production === null) throw refused(site, 'A candidate runs beside a production version; the site has none');
      if (change.versionId === current.production) throw refused(site, 'The candidate is the production version');
      if (current.candidate !== null && current.candidate.versionId !== change.versionId) {
        throw refused(site, 'Another candidate is running at the site; end it first');
      }
      if (change.kind === 'start_canary' && !isCanaryFraction(change.fraction)) throw refused(site, CANARY_FRACTION_RULE);
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
      return next({ production: candidate.versionId, productionRequestId: candidate.requestId, ...pushedHistory(current), candidate: null });
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
      // The restored version comes back with the request that had put it in production (its approvals stand).
      return next({
        production: previous,
        productionRequestId: current.historyRequestIds.at(-1) ?? null,
        history: current.history.slice(0, -1),
        historyRequestIds: current.historyRequestIds.slice(0, -1),
        candidate: null,
      });
    }
  }
}

/** The history with the current production version (and the request that put it there) pushed, as a production change leaves it. */
function pushedHistory(current: SiteDeployment): Pick<SiteDeployment, 'history' | 'historyRequestIds'> {
  if (current.production === null) return { history: current.history, historyRequestIds: current.historyRequestIds };
  return { history: [...current.history, current.production], historyRequestIds: [...current.historyRequestIds, current.productionRequestId] };
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
