import type { ModelIdentity } from '../../domain/audit/audit-event.js';
import { PlatformError } from '../../domain/errors.js';
import type { ModelVersion } from '../../domain/registry/model-version.js';
import type { ModelRegistry } from '../../ports/model-registry.js';
import { MODEL_VERSION_COLUMNS, modelVersionOf, modelVersionValues, type ModelVersionRow } from '../store-common/model-version-row.js';
import type { SqliteDatabase } from './open-sqlite.js';

/** Registered model versions in SQLite (migration 9). */
export class SqliteModelRegistry implements ModelRegistry {
  readonly #insert;
  readonly #get;
  readonly #list;
  readonly #byIdentity;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare(
      `INSERT INTO model_versions (${MODEL_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (version_id) DO NOTHING`,
    );
    this.#get = db.prepare<[string], ModelVersionRow>(`SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions WHERE version_id = ?`);
    this.#list = db.prepare<[], ModelVersionRow>(`SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions ORDER BY registered_at_ms DESC, version_id`);
    this.#byIdentity = db.prepare<[string, string, string], ModelVersionRow>(
      `SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions WHERE model_id = ? AND model_version = ? AND model_sha256 = ? ORDER BY registered_at_ms DESC, version_id`,
    );
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is not.
  async register(version: ModelVersion): Promise<{ readonly version: ModelVersion; readonly created: boolean }> {
    let created: boolean;
    try {
      created = this.#insert.run(...modelVersionValues(version)).changes === 1;
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The model version could not be recorded', {}, { cause });
    }
    const stored = this.#get.get(version.versionId);
    if (stored === undefined) throw new PlatformError('STORE_WRITE_FAILED', 'The model version was not recorded', {});
    return { version: modelVersionOf(stored), created };
  }

  get(versionId: string): Promise<ModelVersion | undefined> {
    const row = this.#get.get(versionId);
    return Promise.resolve(row === undefined ? undefined : modelVersionOf(row));
  }

  list(): Promise<readonly ModelVersion[]> {
    return Promise.resolve(this.#list.all().map(modelVersionOf));
  }

  withIdentity(identity: ModelIdentity): Promise<readonly ModelVersion[]> {
    return Promise.resolve(this.#byIdentity.all(identity.id, identity.version, identity.sha256).map(modelVersionOf));
  }
}
