import type { SiteDeployment } from '../domain/deployment/deployment.js';

/** One case judged in shadow: the candidate's decisions beside production's on the same images. */
export interface ShadowComparison {
  readonly caseId: string;
  readonly site: string;
  readonly productionVersionId: string;
  readonly candidateVersionId: string;
  readonly requestId: string | null;
  /** Images both judged. */
  readonly images: number;
  /** Of them, those whose status and every finding's decision were the same. */
  readonly agreedImages: number;
  readonly createdAt: string;
}

export interface ShadowSummary {
  readonly cases: number;
  /** Cases on whose every image the two agreed. */
  readonly agreedCases: number;
  readonly images: number;
  readonly agreedImages: number;
}

/**
 * What is deployed where (domain/deployment/deployment.ts), shared by every server of the store: a
 * change one server makes is what the next study any server judges sees.
 */
export interface DeploymentStore {
  get(site: string): Promise<SiteDeployment | undefined>;
  /** Every site with a deployment, by site id. */
  list(): Promise<readonly SiteDeployment[]>;
  /**
   * Writes `next` only if the stored state is the one it was made from (generation `next.generation - 1`;
   * no row for generation 1). False when another change came first: nothing is written, read and retry.
   * One statement: a crash leaves the old state or the new one.
   */
  compareAndSet(next: SiteDeployment): Promise<boolean>;
  /** Records a shadow comparison once per (case, candidate); a re-run job's second record is ignored. */
  recordShadow(comparison: ShadowComparison): Promise<void>;
  /** The shadow comparisons of a candidate at a site (of one release request, when given). */
  shadowSummary(site: string, candidateVersionId: string, requestId?: string): Promise<ShadowSummary>;
}
