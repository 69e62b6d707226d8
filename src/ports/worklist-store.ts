import type { ReviewRead, WorklistReason } from '../domain/review/worklist.js';

/**
 * `open` until a reviewer records a read (`reviewed`), or until its case is superseded by a later case
 * of the same study (`superseded`): the later case judged every image this one did and has items of
 * its own, so a read of the old one would be a read of a result nobody will use. Closed rather than
 * left open and marked: a reviewer must not spend a read on it unknowingly, and a read already
 * recorded stays with the case it was made on.
 */
export type WorklistItemState = 'open' | 'reviewed' | 'superseded';

export interface WorklistItem {
  /** `<caseId>#<result index>`: one item per judged image of a case. */
  readonly itemId: string;
  readonly caseId: string;
  readonly studyKey: string;
  readonly resultIndex: number;
  readonly reasons: readonly WorklistReason[];
  readonly state: WorklistItemState;
  readonly createdAt: string;
}

export interface ReviewRecord {
  readonly reviewId: string;
  readonly itemId: string;
  readonly caseId: string;
  readonly studyKey: string;
  readonly reviewerId: string;
  readonly read: ReviewRead;
  readonly createdAt: string;
}

export interface WorklistStore {
  /** Adds items; an item already there (same id) is left as it is, so adding is idempotent. */
  addItems(items: readonly Omit<WorklistItem, 'state' | 'createdAt'>[]): Promise<number>;
  listOpen(limit: number): Promise<readonly WorklistItem[]>;
  get(itemId: string): Promise<WorklistItem | undefined>;
  /** A case's items in every state, by result index. */
  listForCase(caseId: string): Promise<readonly WorklistItem[]>;
  /** Records the read and closes the item; undefined when the item is unknown or not open (reviewed, superseded). */
  recordReview(itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord | undefined>;
  /** Closes a superseded case's open items (reviewed ones stay reviewed); returns how many it closed. */
  closeSuperseded(caseId: string): Promise<number>;
  listReviews(limit: number): Promise<readonly ReviewRecord[]>;
  /** The reads recorded on a case's items, oldest first. */
  reviewsForCase(caseId: string): Promise<readonly ReviewRecord[]>;
}
