import type { StudyState } from '../domain/study/study-state.js';

export type { StudyState };

export interface StudyRecord {
  readonly studyKey: string;
  /** The pseudonymous (2.25) Study Instance UID: where the instances are stored. */
  readonly studyUid: string;
  readonly instances: number;
  readonly firstReceivedAt: string;
  readonly lastReceivedAt: string;
  readonly state: StudyState;
  /** The de-identified Study Date (DA) of its first instance that had one; null when none had. */
  readonly studyDate: string | null;
  /** The modalities of its instances, sorted, each once (Modality (0008,0060)). */
  readonly modalities: readonly string[];
  /** The configured site it came from (domain/deployment/sites.ts), as recognised at its first instance; null before sites were recorded. */
  readonly site: string | null;
}

/**
 * What ingest learned about a study beside its instance, none of it identifying: who sent it (so an
 * integration reads the studies it sent), the keyed lookup key of its Accession Number, and the
 * de-identified attributes QIDO-RS answers with.
 */
export interface StudyFacts {
  /** The surrogate id of the user whose token or session sent the instance (absent for C-STORE). */
  readonly senderId?: string;
  /** accessionLookupKey of the Accession Number as sent. */
  readonly accessionKey?: string;
  /** DA, de-identified; the first one recorded for a study is kept. */
  readonly studyDate?: string;
  readonly modality?: string;
  /** The configured site the instance came from; the first one recorded for a study is kept. */
  readonly site?: string;
}

/** A bounded search (QIDO-RS, lookups). Every filter given must match; `sentBy` limits to one sender's studies. */
export interface StudyQuery {
  readonly studyKey?: string;
  readonly accessionKey?: string;
  readonly sentBy?: string;
  /** Inclusive DA bounds on the de-identified Study Date; a study without one never matches a bound. */
  readonly studyDateFrom?: string;
  readonly studyDateTo?: string;
  readonly modality?: string;
  /** At most this many, newest arrival first (the caller bounds it). */
  readonly limit: number;
  readonly offset?: number;
}

/**
 * Which studies are arriving and which are complete. Senders give no end marker, so a study counts as
 * complete after a quiet period with no new instance (per study); a late instance reopens it.
 *
 * The quiet period runs from the later of the study's last arrival and the last time a server started
 * (`restartQuietPeriods`), and is kept in the store, so that every server sharing it agrees: a study
 * interrupted by a crash is not judged half-received the moment the server comes back, before its
 * sender had any chance to resend.
 */
export interface StudyRegistry {
  /**
   * Records a stored instance of a study. Idempotent per instance: recording one again (a resend after
   * a crash between storing and recording) changes no count and returns false, but a resend to a study
   * still receiving restarts its quiet period (its sender is still sending). `facts` are recorded in
   * the same transaction, for a resend too (a second sender of one study is a sender of it as well).
   */
  recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string, facts?: StudyFacts): Promise<boolean>;
  /**
   * Restarts the quiet period of every study still receiving, from now: called when a server starts,
   * because no sender could reach it while it was down. Returns how many studies it touched.
   */
  restartQuietPeriods(): Promise<number>;
  /** Studies still receiving whose quiet period (above) has lasted at least `quietMs`, longest quiet first. */
  quietStudies(quietMs: number): Promise<readonly StudyRecord[]>;
  /** Marks a study queued, unless an instance arrived after `instances` were counted (then it stays receiving). */
  markQueued(studyKey: string, instances: number): Promise<boolean>;
  /**
   * Moves a study assembled with `instances` along its judging (`judging` when a worker takes its job,
   * `judged` when its case is saved, `queued` again after a failed attempt, `failed` when the job is
   * dead-lettered). True when the state changed; no change when the study is in that state already, has
   * grown since (it is receiving again, or assembled with more instances: a newer job speaks for it) or
   * was never assembled.
   */
  markProgress(studyKey: string, instances: number, state: Exclude<StudyState, 'receiving'>): Promise<boolean>;
  list(limit: number): Promise<readonly StudyRecord[]>;
  get(studyKey: string): Promise<StudyRecord | undefined>;
  /** Studies matching every filter of the query, newest arrival first, within its limit and offset. */
  search(query: StudyQuery): Promise<readonly StudyRecord[]>;
  /** Whether `userId` sent at least one instance of the study. */
  wasSentBy(studyKey: string, userId: string): Promise<boolean>;
}
