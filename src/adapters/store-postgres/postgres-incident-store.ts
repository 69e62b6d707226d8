import { PlatformError } from '../../domain/errors.js';
import type { Incident, IncidentState } from '../../domain/incident/incident.js';
import type { IncidentStore } from '../../ports/incident-store.js';
import { incidentOf } from '../store-common/monitor-rows.js';
import type { PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The incident could not be read or recorded', {}, { cause });

/** Incidents in PostgreSQL (migration 16), shared by every server: at most one unresolved per deployment (a partial unique index). */
export class PostgresIncidentStore implements IncidentStore {
  constructor(private readonly pool: PostgresPool) {}

  async get(incidentId: string): Promise<Incident | undefined> {
    const rows = await this.#query<{ document: string }>('SELECT document FROM incidents WHERE incident_id = $1', [incidentId]);
    return rows[0] === undefined ? undefined : incidentOf(rows[0].document);
  }

  async openFor(site: string, versionId: string): Promise<Incident | undefined> {
    const rows = await this.#query<{ document: string }>("SELECT document FROM incidents WHERE site = $1 AND version_id = $2 AND state <> 'resolved'", [
      site,
      versionId,
    ]);
    return rows[0] === undefined ? undefined : incidentOf(rows[0].document);
  }

  async list(filter: { readonly state?: IncidentState; readonly site?: string; readonly limit: number }): Promise<readonly Incident[]> {
    const rows = await this.#query<{ document: string }>(
      `SELECT document FROM incidents WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR site = $2)
       ORDER BY opened_at_ms DESC, incident_id COLLATE "C" DESC LIMIT $3`,
      [filter.state ?? null, filter.site ?? null, filter.limit],
    );
    return rows.map((r) => incidentOf(r.document));
  }

  async create(incident: Incident): Promise<boolean> {
    try {
      const result = await this.pool.query(
        `INSERT INTO incidents (incident_id, site, version_id, state, severity, document, revision, opened_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT DO NOTHING`,
        [
          incident.incidentId,
          incident.site,
          incident.versionId,
          incident.state,
          incident.severity,
          JSON.stringify(incident),
          incident.revision,
          Date.parse(incident.openedAt),
        ],
      );
      return result.rowCount === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async compareAndSet(next: Incident): Promise<boolean> {
    try {
      const result = await this.pool.query(
        'UPDATE incidents SET state = $2, severity = $3, document = $4, revision = $5 WHERE incident_id = $1 AND revision = $5 - 1',
        [next.incidentId, next.state, next.severity, JSON.stringify(next), next.revision],
      );
      return result.rowCount === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async countOpen(): Promise<{ readonly medium: number; readonly high: number }> {
    const rows = await this.#query<{ severity: string; n: string }>(
      "SELECT severity, COUNT(*) AS n FROM incidents WHERE state <> 'resolved' GROUP BY severity",
      [],
    );
    return { medium: Number(rows.find((r) => r.severity === 'medium')?.n ?? 0), high: Number(rows.find((r) => r.severity === 'high')?.n ?? 0) };
  }

  async #query<Row extends object>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
