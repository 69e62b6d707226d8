import type { ReviewRead, WorklistReason } from '../domain/review/worklist.js';

export interface WorklistItem {
  /** `<caseId>#<result index>`: one item per judged image of a case. */
  readonly itemId: string;
  readonly caseId: string;
  readonly studyKey: string;
  readonly resultIndex: number;
  readonly reasons: readonly WorklistReason[];
  readonly state: 'open' | 'reviewed';
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
  /** Records the read and closes the item; undefined when the item is unknown or already reviewed. */
  recordReview(itemId: string, reviewerId: string, read: ReviewRead): Promise<ReviewRecord | undefined>;
  listReviews(limit: number): Promise<readonly ReviewRecord[]>;
}
