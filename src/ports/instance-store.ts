/**
 * Where received instances are kept, de-identified, until (and after) they are judged. Names are the
 * pseudonymous UIDs the de-identifier assigned, so a path identifies nobody.
 */
export interface InstanceStore {
  /**
   * Durably stores an instance (written, synced, then renamed into place): when it resolves `stored`,
   * the bytes survive a crash. `duplicate` when the instance is already held; it is not rewritten.
   */
  put(studyUid: string, sopInstanceUid: string, bytes: Uint8Array): Promise<'stored' | 'duplicate'>;
  /** The folder holding a study's instances (for the judging workflow). */
  studyLocation(studyUid: string): string;
  /** Free bytes on the store's disk. */
  freeBytes(): Promise<number>;
}
