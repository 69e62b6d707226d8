import type { ModelIdentity } from '../../domain/audit/audit-event.js';
import { PlatformError } from '../../domain/errors.js';
import type { ModelVersion } from '../../domain/registry/model-version.js';
import type { ModelRegistry } from '../../ports/model-registry.js';
import { MODEL_VERSION_COLUMNS, modelVersionOf, modelVersionValues, type ModelVersionRow } from '../store-common/model-version-row.js';
import type { PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The model registry could not be read or updated', {}, { cause });

/** Registered model versions in PostgreSQL (migration 9), shared by every server. */
export class PostgresModelRegistry implements ModelRegistry {
  constructor(private readonly pool: PostgresPool) {}

  async register(version: ModelVersion): Promise<{ readonly version: ModelVersion; readonly created: boolean }> {
    try {
      const inserted = await this.pool.query(
        `INSERT INTO model_versions (${MODEL_VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (version_id) DO NOTHING`,
        modelVersionValues(version),
      );
      const stored = await this.get(version.versionId);
      if (stored === undefined) throw new PlatformError('STORE_WRITE_FAILED', 'The model version was not recorded', {});
      return { version: stored, created: inserted.rowCount === 1 };
    } catch (cause) {
      throw cause instanceof PlatformError ? cause : failed(cause);
    }
  }

  async get(versionId: string): Promise<ModelVersion | undefined> {
    const rows = await this.#query(`SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions WHERE version_id = $1`, [versionId]);
    return rows[0] === undefined ? undefined : modelVersionOf(rows[0]);
  }

  async list(): Promise<readonly ModelVersion[]> {
    return (await this.#query(`SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions ORDER BY registered_at_ms DESC, version_id COLLATE "C"`, [])).map(
      modelVersionOf,
    );
  }

  async withIdentity(identity: ModelIdentity): Promise<readonly ModelVersion[]> {
    return (
      await this.#query(
        `SELECT ${MODEL_VERSION_COLUMNS} FROM model_versions WHERE model_id = $1 AND model_version = $2 AND model_sha256 = $3 ORDER BY registered_at_ms DESC, version_id COLLATE "C"`,
        [identity.id, identity.version, identity.sha256],
      )
    ).map(modelVersionOf);
  }

  async #query(sql: string, values: unknown[]): Promise<ModelVersionRow[]> {
    try {
      return (await this.pool.query<ModelVersionRow>(sql, values)).rows;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
