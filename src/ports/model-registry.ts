import type { ModelIdentity } from '../domain/audit/audit-event.js';
import type { BundleFile, ModelVersion } from '../domain/registry/model-version.js';

/**
 * The registry's records (asynchronous, so that PostgreSQL can implement it and every server sees
 * the same versions). Records are immutable: registering a version id again returns the first record.
 */
export interface ModelRegistry {
  /** Records a version; durable when it resolves. `created: false` (and the first record) when the id is registered already. */
  register(version: ModelVersion): Promise<{ readonly version: ModelVersion; readonly created: boolean }>;
  get(versionId: string): Promise<ModelVersion | undefined>;
  /** Every version, newest registration first. */
  list(): Promise<readonly ModelVersion[]>;
  /** The versions whose manifest identity is this one (a recalibration keeps the model file, so several may share it), newest first. */
  withIdentity(identity: ModelIdentity): Promise<readonly ModelVersion[]>;
}

/**
 * Where registered bundles' bytes are kept, by version id: copied in once, verified, never changed.
 * What a rollback restores is read back from here, byte for byte.
 */
export interface BundleArchive {
  /** Lists a bundle folder's files (bounded in count and bytes; links and special files refused). */
  listBundle(directory: string): Promise<readonly BundleFile[]>;
  /**
   * Copies the bundle into the archive under its version id, unless it is there already, and checks
   * that the copy hashes to the version id (MODEL_HASH_MISMATCH if the source changed meanwhile);
   * returns the archived folder.
   */
  keep(directory: string, versionId: string): Promise<string>;
  /** The archived folder of a version, after checking that it still hashes to its id (MODEL_HASH_MISMATCH if altered). */
  open(versionId: string): Promise<string>;
}
