import type { SiteDeployment } from '../../domain/deployment/deployment.js';
import { PlatformError } from '../../domain/errors.js';
import type { DeploymentStore, ShadowComparison, ShadowSummary } from '../../ports/deployment-store.js';
import { deploymentOf, SHADOW_COLUMNS, SHADOW_SUMMARY_SELECT, shadowSummaryOf, shadowValues, type ShadowSummaryRow } from '../store-common/deployment-rows.js';
import type { PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The deployment could not be read or recorded', {}, { cause });

/** Deployments per site and shadow comparisons in PostgreSQL (migration 14), shared by every server. */
export class PostgresDeploymentStore implements DeploymentStore {
  constructor(private readonly pool: PostgresPool) {}

  async get(site: string): Promise<SiteDeployment | undefined> {
    const rows = await this.#query<{ state: unknown }>('SELECT state FROM deployments WHERE site = $1', [site]);
    return rows[0] === undefined ? undefined : deploymentOf(rows[0].state);
  }

  async list(): Promise<readonly SiteDeployment[]> {
    return (await this.#query<{ state: unknown }>('SELECT state FROM deployments ORDER BY site COLLATE "C"', [])).map((row) => deploymentOf(row.state));
  }

  async compareAndSet(next: SiteDeployment): Promise<boolean> {
    const values = [next.site, next.generation, JSON.stringify(next), Date.parse(next.updatedAt)];
    try {
      const result =
        next.generation === 1
          ? await this.pool.query(
              'INSERT INTO deployments (site, generation, state, updated_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT (site) DO NOTHING',
              values,
            )
          : await this.pool.query('UPDATE deployments SET generation = $2, state = $3, updated_at_ms = $4 WHERE site = $1 AND generation = $2 - 1', values);
      return result.rowCount === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async recordShadow(comparison: ShadowComparison): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO shadow_comparisons (${SHADOW_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
        shadowValues(comparison),
      );
    } catch (cause) {
      throw failed(cause);
    }
  }

  async shadowSummary(site: string, candidateVersionId: string, requestId?: string): Promise<ShadowSummary> {
    const rows = await this.#query<ShadowSummaryRow>(
      `SELECT ${SHADOW_SUMMARY_SELECT} FROM shadow_comparisons WHERE site = $1 AND candidate_version_id = $2 AND (request_id = $3 OR $3::text IS NULL)`,
      [site, candidateVersionId, requestId ?? null],
    );
    return shadowSummaryOf(rows[0]);
  }

  async #query<Row extends object>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
