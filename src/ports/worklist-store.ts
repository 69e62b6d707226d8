import type { ReviewRead, WorklistPriority, WorklistReason } from '../domain/review/worklist.js';

/**
 * `open` until a reviewer records a read (`reviewed`), or until its case is superseded by a later case
 * of the same study (`superseded`): the later case judged every image this one did and has items of
 * its own, so a read of the old one would be a read of a result nobody will use. Closed rather than
 * left open and marked: a reviewer must not spend a read on it unknowingly, and a read already
 * recorded stays with the case it was made on.
 */
export type WorklistItemState = 'open' | 'reviewed' | 'superseded';

/**
 * One thing for a reader to look at: a judged study (domain/review/worklist.ts, `studyWorklistEntry`).
 * Items made before one item per study (`<caseId>#<result index>`, one per image) keep their form.
 */
export interface WorklistItem {
  /** `<caseId>#study`; `<caseId>#<result index>` for an item from before one item per study. */
  readonly itemId: string;
  readonly caseId: string;
  readonly studyKey: string;
  /** The image shown first (an index into the case's results): the first of the most urgent. */
  readonly resultIndex: number;
  /** Every image the item covers, ascending (the frames of a cine, the instances of a series…). */
  readonly resultIndexes: readonly number[];
  /** Most urgent first. */
  readonly reasons: readonly WorklistReason[];
  /** Derived from the reasons (`worklistPriority`) by the store, which sorts on it. */
  readonly priority: WorklistPriority;
  readonly state: WorklistItemState;
  readonly createdAt: string;
  /** What the list shows, as kept after de-identification (domain/image/image-summary.ts); null when not known. */
  readonly modalities: readonly string[];
  readonly bodyPart: string | null;
  readonly patientAgeYears: string | null;
  readonly site: string | null;
  readonly device: string | null;
  /** The highest calibrated probability among the covered images (the most suspicious), null when none was decided. */
  readonly probability: number | null;
  /**
   * The probability the study was put on the worklist, kept when it was (migration 20): 1 when a rule sent
   * it, the review sample rate of that moment for a random sample (`studyWorklistEntry`). Null for an item
   * stored before it was kept: a reader of it falls back to the rate configured now.
   */
  readonly samplingProbability: number | null;
}

export type NewWorklistItem = Omit<WorklistItem, 'state' | 'createdAt' | 'priority'>;

/** Where a page of the worklist ends: the sort key of its last item. */
export interface WorklistCursor {
  readonly priorityRank: number;
  readonly createdAtMs: number;
  readonly itemId: string;
}

/** Which items, all conditions together; an absent one does not filter. */
export interface WorklistFilter {
  /** Default `open`. */
  readonly state?: WorklistItemState;
  readonly priority?: WorklistPriority;
  /** Items having this reason among theirs. */
  readonly reason?: WorklistReason;
  /** Items of a study with an image of this modality. */
  readonly modality?: string;
  readonly site?: string;
  readonly device?: string;
  /** Created at or after (ms since the epoch). */
  readonly fromMs?: number;
  /** Created before (ms since the epoch). */
  readonly toMs?: number;
}

export interface WorklistQuery extends WorklistFilter {
  readonly limit: number;
  /** Items after this one in the order (the previous page's `next`). */
  readonly after?: WorklistCursor;
}

export interface WorklistPage {
  readonly items: readonly WorklistItem[];
  /** Present when more items may follow. */
  readonly next?: WorklistCursor;
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
  addItems(items: readonly NewWorklistItem[]): Promise<number>;
  /**
   * A page of items by clinical priority (referred, warned, rejected, sampled), then oldest waiting
   * first, then by item id; filtered as the query says.
   */
  list(query: WorklistQuery): Promise<WorklistPage>;
  /** How many items each priority has under the filter (its `priority` ignored). */
  countByPriority(filter: WorklistFilter): Promise<Readonly<Record<WorklistPriority, number>>>;
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
