import type { SiteDeployment } from '../../domain/deployment/deployment.js';
import { PlatformError } from '../../domain/errors.js';
import type { DeploymentStore, ShadowComparison, ShadowSummary } from '../../ports/deployment-store.js';
import { deploymentOf, SHADOW_COLUMNS, SHADOW_SUMMARY_SELECT, shadowSummaryOf, shadowValues, type ShadowSummaryRow } from '../store-common/deployment-rows.js';
import type { SqliteDatabase } from './open-sqlite.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The deployment could not be recorded', {}, { cause });

/** Deployments per site and shadow comparisons in SQLite (migration 14). */
export class SqliteDeploymentStore implements DeploymentStore {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #update;
  readonly #shadow;
  readonly #summary;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<[string], { state: string }>('SELECT state FROM deployments WHERE site = ?');
    this.#list = db.prepare<[], { state: string }>('SELECT state FROM deployments ORDER BY site');
    this.#insert = db.prepare('INSERT INTO deployments (site, generation, state, updated_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (site) DO NOTHING');
    this.#update = db.prepare('UPDATE deployments SET generation = ?, state = ?, updated_at_ms = ? WHERE site = ? AND generation = ?');
    this.#shadow = db.prepare(`INSERT INTO shadow_comparisons (${SHADOW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`);
    this.#summary = db.prepare<[string, string, string | null, string | null], ShadowSummaryRow>(
      `SELECT ${SHADOW_SUMMARY_SELECT} FROM shadow_comparisons WHERE site = ? AND candidate_version_id = ? AND (request_id = ? OR ? IS NULL)`,
    );
  }

  get(site: string): Promise<SiteDeployment | undefined> {
    const row = this.#get.get(site);
    return Promise.resolve(row === undefined ? undefined : deploymentOf(row.state));
  }

  list(): Promise<readonly SiteDeployment[]> {
    return Promise.resolve(this.#list.all().map((row) => deploymentOf(row.state)));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is not.
  async compareAndSet(next: SiteDeployment): Promise<boolean> {
    const values = [next.generation, JSON.stringify(next), Date.parse(next.updatedAt)] as const;
    try {
      if (next.generation === 1) return this.#insert.run(next.site, ...values).changes === 1;
      return this.#update.run(...values, next.site, next.generation - 1).changes === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as above.
  async recordShadow(comparison: ShadowComparison): Promise<void> {
    try {
      this.#shadow.run(...shadowValues(comparison));
    } catch (cause) {
      throw failed(cause);
    }
  }

  shadowSummary(site: string, candidateVersionId: string, requestId?: string): Promise<ShadowSummary> {
    const request = requestId ?? null;
    return Promise.resolve(shadowSummaryOf(this.#summary.get(site, candidateVersionId, request, request)));
  }
}
