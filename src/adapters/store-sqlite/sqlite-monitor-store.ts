import { PlatformError } from '../../domain/errors.js';
import type {
  DeploymentKey,
  MonitorCase,
  MonitorCaseQuery,
  MonitorStore,
  NewMonitorCase,
  StoredAlert,
  StoredMonitorPlan,
  StoredMonitorState,
} from '../../ports/monitor-store.js';
import {
  alertDocument,
  alertOf,
  MONITOR_CASE_COLUMN_COUNT,
  MONITOR_CASE_COLUMNS,
  MONITOR_CASE_SELECT,
  monitorCaseOf,
  monitorCaseValues,
  monitorStateOf,
  planDocument,
  planOf,
  type MonitorCaseRow,
  type MonitorStateRow,
} from '../store-common/monitor-rows.js';
import type { SqliteDatabase } from './open-sqlite.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The monitor values could not be recorded', {}, { cause });

function guard<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (cause) {
    return Promise.reject(failed(cause));
  }
}

/** Monitor cases, plans, states and alerts in SQLite (migrations 16–19). One writer at a time: seqs commit in order. */
export class SqliteMonitorStore implements MonitorStore {
  readonly #db: SqliteDatabase;
  readonly #append;

  constructor(db: SqliteDatabase) {
    this.#db = db;
    const insert = db.prepare(
      `INSERT INTO monitor_cases (${MONITOR_CASE_COLUMNS}) VALUES (${Array.from({ length: MONITOR_CASE_COLUMN_COUNT }, () => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    );
    this.#append = db.transaction((cases: readonly NewMonitorCase[]) => {
      for (const c of cases) insert.run(...monitorCaseValues(c));
    });
  }

  appendCases(cases: readonly NewMonitorCase[]): Promise<void> {
    return guard(() => this.#append(cases));
  }

  readCases(key: DeploymentKey, afterSeq: number, limit: number, options?: { readonly imagesOnly?: boolean }): Promise<readonly MonitorCase[]> {
    const images = options?.imagesOnly === true ? ' AND review IS NULL' : '';
    return guard(() =>
      this.#db
        .prepare<[string, string, number, number], MonitorCaseRow>(
          `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE site = ? AND version_id = ? AND seq > ?${images} ORDER BY seq LIMIT ?`,
        )
        .all(key.site, key.versionId, afterSeq, limit)
        .map(monitorCaseOf),
    );
  }

  queryCases(key: DeploymentKey, query: MonitorCaseQuery): Promise<readonly MonitorCase[]> {
    return guard(() =>
      this.#db
        .prepare<[string, string, number, number, number, number, number], MonitorCaseRow>(
          `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases
           WHERE site = ? AND version_id = ? AND seq > ? AND seq <= ? AND time_ms >= ? AND time_ms <= ? AND review IS NULL ORDER BY seq LIMIT ?`,
        )
        .all(
          key.site,
          key.versionId,
          query.afterSeq ?? 0,
          query.throughSeq ?? Number.MAX_SAFE_INTEGER,
          query.fromMs ?? Number.MIN_SAFE_INTEGER,
          query.toMs ?? Number.MAX_SAFE_INTEGER,
          query.limit,
        )
        .map(monitorCaseOf),
    );
  }

  latestCases(key: DeploymentKey, limit: number): Promise<readonly MonitorCase[]> {
    return guard(() =>
      this.#db
        .prepare<[string, string, number], MonitorCaseRow>(
          `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE site = ? AND version_id = ? AND review IS NULL ORDER BY seq DESC LIMIT ?`,
        )
        .all(key.site, key.versionId, limit)
        .map(monitorCaseOf)
        .reverse(),
    );
  }

  countCases(key: DeploymentKey, afterSeq = 0): Promise<number> {
    return guard(
      () =>
        this.#db
          .prepare<[string, string, number], { n: number }>(
            'SELECT COUNT(*) AS n FROM monitor_cases WHERE site = ? AND version_id = ? AND seq > ? AND review IS NULL',
          )
          .get(key.site, key.versionId, afterSeq)?.n ?? 0,
    );
  }

  getBaselineStart(site: string): Promise<number | undefined> {
    return guard(() => this.#db.prepare<[string], { after_seq: number }>('SELECT after_seq FROM monitor_baseline_starts WHERE site = ?').get(site)?.after_seq);
  }

  startBaseline(site: string, at: Date): Promise<number> {
    return guard(() => {
      // One statement: the newest seq of the site's cases as this write sees it (SQLite serialises writers).
      this.#db
        .prepare(
          `INSERT INTO monitor_baseline_starts (site, after_seq, created_at_ms)
           SELECT ?, COALESCE(MAX(seq), 0), ? FROM monitor_cases WHERE site = ? ON CONFLICT DO NOTHING`,
        )
        .run(site, at.getTime(), site);
      return this.#db.prepare<[string], { after_seq: number }>('SELECT after_seq FROM monitor_baseline_starts WHERE site = ?').get(site)!.after_seq;
    });
  }

  caseImages(caseId: string): Promise<readonly MonitorCase[]> {
    return guard(() =>
      this.#db
        .prepare<[string], MonitorCaseRow>(`SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE case_id = ? AND review IS NULL ORDER BY seq`)
        .all(caseId)
        .map(monitorCaseOf),
    );
  }

  listKeys(): Promise<readonly DeploymentKey[]> {
    return guard(() =>
      this.#db
        .prepare<[], { site: string; version_id: string }>(
          `SELECT DISTINCT site, version_id FROM (SELECT site, version_id FROM monitor_cases UNION SELECT site, version_id FROM monitor_plans)
           ORDER BY site, version_id`,
        )
        .all()
        .map((r) => ({ site: r.site, versionId: r.version_id })),
    );
  }

  getPlan(key: DeploymentKey): Promise<StoredMonitorPlan | undefined> {
    return guard(() => {
      const row = this.#db
        .prepare<[string, string], { document: string }>('SELECT document FROM monitor_plans WHERE site = ? AND version_id = ?')
        .get(key.site, key.versionId);
      return row === undefined ? undefined : planOf(row.document);
    });
  }

  putPlan(plan: StoredMonitorPlan): Promise<boolean> {
    return guard(
      () =>
        this.#db
          .prepare('INSERT INTO monitor_plans (site, version_id, document, created_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING')
          .run(plan.site, plan.versionId, planDocument(plan), Date.parse(plan.createdAt)).changes === 1,
    );
  }

  getState(key: DeploymentKey): Promise<StoredMonitorState | undefined> {
    return guard(() => {
      const row = this.#db
        .prepare<[string, string], MonitorStateRow>('SELECT * FROM monitor_states WHERE site = ? AND version_id = ?')
        .get(key.site, key.versionId);
      return row === undefined ? undefined : monitorStateOf(row);
    });
  }

  compareAndSetState(next: StoredMonitorState): Promise<boolean> {
    return guard(() => {
      const values = [next.planHash, next.state, next.lastSeq, next.revision, Date.parse(next.updatedAt)] as const;
      if (next.revision === 1) {
        return (
          this.#db
            .prepare(
              `INSERT INTO monitor_states (site, version_id, plan_hash, state, last_seq, revision, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT DO NOTHING`,
            )
            .run(next.site, next.versionId, ...values).changes === 1
        );
      }
      return (
        this.#db
          .prepare(
            `UPDATE monitor_states SET plan_hash = ?, state = ?, last_seq = ?, revision = ?, updated_at_ms = ?
             WHERE site = ? AND version_id = ? AND revision = ?`,
          )
          .run(...values, next.site, next.versionId, next.revision - 1).changes === 1
      );
    });
  }

  putAlert(alert: StoredAlert): Promise<boolean> {
    return guard(
      () =>
        this.#db
          .prepare(
            `INSERT INTO monitor_alerts (alert_id, site, version_id, alarm_seq, document, incident_id, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT DO NOTHING`,
          )
          .run(alert.alertId, alert.site, alert.versionId, alert.alarmSeq, alertDocument(alert), alert.incidentId, Date.parse(alert.createdAt)).changes === 1,
    );
  }

  setAlertIncident(alertId: string, incidentId: string): Promise<void> {
    return guard(() => {
      this.#db.prepare('UPDATE monitor_alerts SET incident_id = ? WHERE alert_id = ?').run(incidentId, alertId);
    });
  }

  getAlert(alertId: string): Promise<StoredAlert | undefined> {
    return guard(() => {
      const row = this.#db
        .prepare<[string], { document: string; incident_id: string | null }>('SELECT document, incident_id FROM monitor_alerts WHERE alert_id = ?')
        .get(alertId);
      return row === undefined ? undefined : alertOf(row.document, row.incident_id);
    });
  }

  listAlerts(filter: { readonly site?: string; readonly versionId?: string; readonly limit: number }): Promise<readonly StoredAlert[]> {
    const site = filter.site ?? null;
    const version = filter.versionId ?? null;
    return guard(() =>
      this.#db
        .prepare<[string | null, string | null, string | null, string | null, number], { document: string; incident_id: string | null }>(
          `SELECT document, incident_id FROM monitor_alerts WHERE (? IS NULL OR site = ?) AND (? IS NULL OR version_id = ?)
           ORDER BY created_at_ms DESC, alarm_seq DESC, alert_id DESC LIMIT ?`,
        )
        .all(site, site, version, version, filter.limit)
        .map((r) => alertOf(r.document, r.incident_id)),
    );
  }
}
