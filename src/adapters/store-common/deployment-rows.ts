import { withHistoryRequestIds, type SiteDeployment } from '../../domain/deployment/deployment.js';
import type { ShadowComparison, ShadowSummary } from '../../ports/deployment-store.js';

/** The columns of `deployments` and `shadow_comparisons` (migration 14), as both stores read and write them. */
export const SHADOW_COLUMNS = 'case_id, candidate_version_id, site, production_version_id, request_id, images, agreed_images, created_at_ms';

export function shadowValues(c: ShadowComparison): unknown[] {
  return [c.caseId, c.candidateVersionId, c.site, c.productionVersionId, c.requestId, c.images, c.agreedImages, Date.parse(c.createdAt)];
}

/** Sums over the comparisons matched (the request filter is `request_id = ? OR ? IS NULL`). */
export const SHADOW_SUMMARY_SELECT =
  'COUNT(*) AS cases, COALESCE(SUM(CASE WHEN agreed_images = images THEN 1 ELSE 0 END), 0) AS agreed_cases, COALESCE(SUM(images), 0) AS images, COALESCE(SUM(agreed_images), 0) AS agreed_images';

export interface ShadowSummaryRow {
  readonly cases: number | string;
  readonly agreed_cases: number | string;
  readonly images: number | string;
  readonly agreed_images: number | string;
}

export function shadowSummaryOf(row: ShadowSummaryRow | undefined): ShadowSummary {
  return {
    cases: Number(row?.cases ?? 0),
    agreedCases: Number(row?.agreed_cases ?? 0),
    images: Number(row?.images ?? 0),
    agreedImages: Number(row?.agreed_images ?? 0),
  };
}

/** The stored document, checked for the one field every reader relies on. */
export function deploymentOf(state: unknown): SiteDeployment {
  const parsed = (typeof state === 'string' ? JSON.parse(state) : state) as Parameters<typeof withHistoryRequestIds>[0];
  if (typeof parsed.site !== 'string' || typeof parsed.generation !== 'number') throw new Error('deployment row is not a deployment');
  // A state stored before each earlier version kept its request reads with nulls for them.
  return withHistoryRequestIds(parsed);
}
