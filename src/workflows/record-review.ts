import type { AuditEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { ReviewRead } from '../domain/review/worklist.js';
import type { CaseStore } from '../ports/case-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { ReviewRecord, WorklistStore } from '../ports/worklist-store.js';
import { reissueAfterRead, type ResultDestinationKind } from './deliver-results.js';
import type { ReviewForMonitoring } from './monitoring.js';

export interface RecordReviewDependencies {
  readonly worklist: WorklistStore;
  readonly cases: Pick<CaseStore, 'get'>;
  readonly jobs: JobQueue;
  /** Appends to the audit log; resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  /** Where results go; a read case's FHIR report is issued again to the webhook. */
  readonly resultDestinations: readonly ResultDestinationKind[];
  /**
   * Feeds the read to the deployment's review detectors (DeploymentMonitoring.recordReviewed: only a
   * random sample of confident decisions counts; idempotent; never throws). Absent: reviews are not monitored.
   */
  readonly monitorReview?: (review: ReviewForMonitoring) => Promise<unknown>;
}

/**
 * A reviewer's read of one worklist item: recorded once (the item closes), audited (without the
 * comment), fed to the deployment's review detectors when the item was a random sample of confident
 * decisions (`monitorReview`), and, when it completes the reading of its case, the case's result issued
 * again as read (deliver-results.ts, `reissueAfterRead`). A process that stops between recording the read
 * and feeding it leaves that review out of the detectors (a retry finds it recorded and feeds nothing:
 * the read it carries may not be the one recorded).
 *
 * @throws ROUTE_NOT_FOUND (no such item), REVIEW_ITEM_SUPERSEDED (its case was superseded; the item was
 * closed unread), REVIEW_ALREADY_RECORDED
 * @example await recordReview(deps, 'infer:st-…#0', 'u-1', { findingPresent: true, imageQualityAdequate: true, agreesWithModel: true, comment: '' })
 */
export async function recordReview(deps: RecordReviewDependencies, itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord> {
  const item = await deps.worklist.get(itemId);
  if (item === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No worklist item has this id');
  const review = item.state === 'open' ? await deps.worklist.recordReview(item.itemId, reviewerId, read) : undefined;
  if (review === undefined) {
    // Not open, or closed in the meantime (another reviewer, or a newer case of the study).
    const now = await deps.worklist.get(item.itemId);
    if (now?.state === 'superseded') throw new PlatformError('REVIEW_ITEM_SUPERSEDED', 'This item was closed: a newer case of its study replaced its case');
    // A retry after a crash between recording and re-issuing finds the read recorded: re-issue now.
    await reissueAfterRead({ ...deps, destinations: deps.resultDestinations }, item.caseId);
    throw new PlatformError('REVIEW_ALREADY_RECORDED', 'This item has already been reviewed');
  }
  await deps.recordAudit({
    type: 'review_recorded',
    itemId: review.itemId,
    caseId: review.caseId,
    studyKey: review.studyKey,
    reviewerId,
    findingPresent: review.read.findingPresent,
    imageQualityAdequate: review.read.imageQualityAdequate,
    agreesWithModel: review.read.agreesWithModel,
  });
  await deps.monitorReview?.({ itemId: review.itemId, caseId: review.caseId, reasons: item.reasons, findingPresent: review.read.findingPresent });
  await reissueAfterRead({ ...deps, destinations: deps.resultDestinations }, review.caseId);
  return review;
}
