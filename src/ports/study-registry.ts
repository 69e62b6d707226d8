export type StudyState = 'receiving' | 'queued';

export interface StudyRecord {
  readonly studyKey: string;
  /** The pseudonymous (2.25) Study Instance UID: where the instances are stored. */
  readonly studyUid: string;
  readonly instances: number;
  readonly firstReceivedAt: string;
  readonly lastReceivedAt: string;
  readonly state: StudyState;
}

/**
 * Which studies are arriving and which are complete. Senders give no end marker, so a study counts as
 * complete after a quiet period with no new instance (per study); a late instance reopens it.
 */
export interface StudyRegistry {
  /**
   * Records a stored instance of a study. Idempotent per instance: recording one again (a resend after
   * a crash between storing and recording) changes nothing and returns false.
   */
  recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string): Promise<boolean>;
  /** Studies still receiving whose last instance came at least `quietMs` ago. */
  quietStudies(quietMs: number): Promise<readonly StudyRecord[]>;
  /** Marks a study queued, unless an instance arrived after `instances` were counted (then it stays receiving). */
  markQueued(studyKey: string, instances: number): Promise<boolean>;
  list(limit: number): Promise<readonly StudyRecord[]>;
  get(studyKey: string): Promise<StudyRecord | undefined>;
}
