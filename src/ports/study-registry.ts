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
   * still receiving restarts its quiet period (its sender is still sending).
   */
  recordInstance(studyKey: string, studyUid: string, sopInstanceUid: string): Promise<boolean>;
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
}
