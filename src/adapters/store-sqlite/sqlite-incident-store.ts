import { PlatformError } from '../../domain/errors.js';
import type { Incident, IncidentState } from '../../domain/incident/incident.js';
import type { IncidentStore } from '../../ports/incident-store.js';
import { incidentOf } from '../store-common/monitor-rows.js';
import type { SqliteDatabase } from './open-sqlite.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The incident could not be recorded', {}, { cause });

function guard<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (cause) {
    return Promise.reject(failed(cause));
  }
}

/** Incidents in SQLite (migration 16): one document per incident, changed by compare-and-set on its revision. */
export class SqliteIncidentStore implements IncidentStore {
  readonly #db: SqliteDatabase;

  constructor(db: SqliteDatabase) {
    this.#db = db;
  }

  get(incidentId: string): Promise<Incident | undefined> {
    return guard(() => {
      const row = this.#db.prepare<[string], { document: string }>('SELECT document FROM incidents WHERE incident_id = ?').get(incidentId);
      return row === undefined ? undefined : incidentOf(row.document);
    });
  }

  openFor(site: string, versionId: string): Promise<Incident | undefined> {
    return guard(() => {
      const row = this.#db
        .prepare<[string, string], { document: string }>("SELECT document FROM incidents WHERE site = ? AND version_id = ? AND state <> 'resolved'")
        .get(site, versionId);
      return row === undefined ? undefined : incidentOf(row.document);
    });
  }

  list(filter: { readonly state?: IncidentState; readonly site?: string; readonly limit: number }): Promise<readonly Incident[]> {
    const state = filter.state ?? null;
    const site = filter.site ?? null;
    return guard(() =>
      this.#db
        .prepare<[string | null, string | null, string | null, string | null, number], { document: string }>(
          `SELECT document FROM incidents WHERE (? IS NULL OR state = ?) AND (? IS NULL OR site = ?) ORDER BY opened_at_ms DESC, incident_id DESC LIMIT ?`,
        )
        .all(state, state, site, site, filter.limit)
        .map((r) => incidentOf(r.document)),
    );
  }

  create(incident: Incident): Promise<boolean> {
    return guard(
      () =>
        this.#db
          .prepare(
            `INSERT INTO incidents (incident_id, site, version_id, state, severity, document, revision, opened_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING`,
          )
          .run(
            incident.incidentId,
            incident.site,
            incident.versionId,
            incident.state,
            incident.severity,
            JSON.stringify(incident),
            incident.revision,
            Date.parse(incident.openedAt),
          ).changes === 1,
    );
  }

  compareAndSet(next: Incident): Promise<boolean> {
    return guard(
      () =>
        this.#db
          .prepare('UPDATE incidents SET state = ?, severity = ?, document = ?, revision = ? WHERE incident_id = ? AND revision = ?')
          .run(next.state, next.severity, JSON.stringify(next), next.revision, next.incidentId, next.revision - 1).changes === 1,
    );
  }

  countOpen(): Promise<{ readonly medium: number; readonly high: number }> {
    return guard(() => {
      const rows = this.#db
        .prepare<[], { severity: string; n: number }>("SELECT severity, COUNT(*) AS n FROM incidents WHERE state <> 'resolved' GROUP BY severity")
        .all();
      return { medium: rows.find((r) => r.severity === 'medium')?.n ?? 0, high: rows.find((r) => r.severity === 'high')?.n ?? 0 };
    });
  }
}
