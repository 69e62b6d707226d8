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
import { inTransaction, type PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The monitor values could not be read or recorded', {}, { cause });
const COLUMN_COUNT = MONITOR_CASE_COLUMN_COUNT;

/**
 * Monitor cases, plans, states and alerts in PostgreSQL (migrations 16–19), shared by every server. A
 * deployment's appends are serialised by a transaction-scoped advisory lock on the deployment, so its
 * seqs are committed in the order they are drawn: a server that has read up to seq s never later
 * finds a seq below s committed (which it would skip).
 */
export class PostgresMonitorStore implements MonitorStore {
  constructor(private readonly pool: PostgresPool) {}

  async appendCases(cases: readonly NewMonitorCase[]): Promise<void> {
    const byKey = new Map<string, NewMonitorCase[]>();
    for (const c of cases) {
      const k = `${c.site}\u001f${c.versionId}`;
      byKey.set(k, [...(byKey.get(k) ?? []), c]);
    }
    for (const [k, group] of byKey) {
      await inTransaction(
        this.pool,
        async (client) => {
          await client.query(`SELECT pg_advisory_xact_lock(hashtextextended('vigil:monitor:' || $1, 0))`, [k]);
          const rows = group.map((_, r) => `(${Array.from({ length: COLUMN_COUNT }, (_c, i) => `$${r * COLUMN_COUNT + i + 1}`).join(', ')})`);
          await client.query(
            `INSERT INTO monitor_cases (${MONITOR_CASE_COLUMNS}) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`,
            group.flatMap(monitorCaseValues),
          );
        },
        failed,
      );
    }
  }

  async readCases(key: DeploymentKey, afterSeq: number, limit: number, options?: { readonly imagesOnly?: boolean }): Promise<readonly MonitorCase[]> {
    const images = options?.imagesOnly === true ? ' AND review IS NULL' : '';
    return (
      await this.#query<MonitorCaseRow>(
        `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE site = $1 AND version_id = $2 AND seq > $3${images} ORDER BY seq LIMIT $4`,
        [key.site, key.versionId, afterSeq, limit],
      )
    ).map(monitorCaseOf);
  }

  async queryCases(key: DeploymentKey, query: MonitorCaseQuery): Promise<readonly MonitorCase[]> {
    return (
      await this.#query<MonitorCaseRow>(
        `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases
         WHERE site = $1 AND version_id = $2 AND seq > $3 AND seq <= $4 AND time_ms >= $5 AND time_ms <= $6 AND review IS NULL ORDER BY seq LIMIT $7`,
        [
          key.site,
          key.versionId,
          query.afterSeq ?? 0,
          query.throughSeq ?? Number.MAX_SAFE_INTEGER,
          query.fromMs ?? Number.MIN_SAFE_INTEGER,
          query.toMs ?? Number.MAX_SAFE_INTEGER,
          query.limit,
        ],
      )
    ).map(monitorCaseOf);
  }

  async latestCases(key: DeploymentKey, limit: number): Promise<readonly MonitorCase[]> {
    return (
      await this.#query<MonitorCaseRow>(
        `SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE site = $1 AND version_id = $2 AND review IS NULL ORDER BY seq DESC LIMIT $3`,
        [key.site, key.versionId, limit],
      )
    )
      .map(monitorCaseOf)
      .reverse();
  }

  async countCases(key: DeploymentKey, afterSeq = 0): Promise<number> {
    const rows = await this.#query<{ n: string }>(
      'SELECT COUNT(*) AS n FROM monitor_cases WHERE site = $1 AND version_id = $2 AND seq > $3 AND review IS NULL',
      [key.site, key.versionId, afterSeq],
    );
    return Number(rows[0]?.n ?? 0);
  }

  async getBaselineStart(site: string): Promise<number | undefined> {
    const rows = await this.#query<{ after_seq: string }>('SELECT after_seq FROM monitor_baseline_starts WHERE site = $1', [site]);
    return rows[0] === undefined ? undefined : Number(rows[0].after_seq);
  }

  async startBaseline(site: string, at: Date): Promise<number> {
    // The newest seq committed for the site now. A case of the site being appended at this instant may
    // commit a lower seq later: it falls before the baseline (recorded, never reference nor watched).
    await this.#run(
      `INSERT INTO monitor_baseline_starts (site, after_seq, created_at_ms)
       SELECT $1::text, COALESCE(MAX(seq), 0), $2::bigint FROM monitor_cases WHERE site = $1::text ON CONFLICT DO NOTHING`,
      [site, at.getTime()],
    );
    return (await this.getBaselineStart(site))!;
  }

  async caseImages(caseId: string): Promise<readonly MonitorCase[]> {
    return (
      await this.#query<MonitorCaseRow>(`SELECT ${MONITOR_CASE_SELECT} FROM monitor_cases WHERE case_id = $1 AND review IS NULL ORDER BY seq`, [caseId])
    ).map(monitorCaseOf);
  }

  async listKeys(): Promise<readonly DeploymentKey[]> {
    const rows = await this.#query<{ site: string; version_id: string }>(
      `SELECT site, version_id FROM (SELECT site, version_id FROM monitor_cases UNION SELECT site, version_id FROM monitor_plans) k
       ORDER BY site COLLATE "C", version_id COLLATE "C"`,
      [],
    );
    return rows.map((r) => ({ site: r.site, versionId: r.version_id }));
  }

  async getPlan(key: DeploymentKey): Promise<StoredMonitorPlan | undefined> {
    const rows = await this.#query<{ document: string }>('SELECT document FROM monitor_plans WHERE site = $1 AND version_id = $2', [key.site, key.versionId]);
    return rows[0] === undefined ? undefined : planOf(rows[0].document);
  }

  async putPlan(plan: StoredMonitorPlan): Promise<boolean> {
    return (
      (await this.#run('INSERT INTO monitor_plans (site, version_id, document, created_at_ms) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
        plan.site,
        plan.versionId,
        planDocument(plan),
        Date.parse(plan.createdAt),
      ])) === 1
    );
  }

  async getState(key: DeploymentKey): Promise<StoredMonitorState | undefined> {
    const rows = await this.#query<MonitorStateRow>('SELECT * FROM monitor_states WHERE site = $1 AND version_id = $2', [key.site, key.versionId]);
    return rows[0] === undefined ? undefined : monitorStateOf(rows[0]);
  }

  async compareAndSetState(next: StoredMonitorState): Promise<boolean> {
    const values = [next.site, next.versionId, next.planHash, next.state, next.lastSeq, next.revision, Date.parse(next.updatedAt)];
    const changed =
      next.revision === 1
        ? await this.#run(
            `INSERT INTO monitor_states (site, version_id, plan_hash, state, last_seq, revision, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT DO NOTHING`,
            values,
          )
        : await this.#run(
            `UPDATE monitor_states SET plan_hash = $3, state = $4, last_seq = $5, revision = $6, updated_at_ms = $7
             WHERE site = $1 AND version_id = $2 AND revision = $6 - 1`,
            values,
          );
    return changed === 1;
  }

  async putAlert(alert: StoredAlert): Promise<boolean> {
    return (
      (await this.#run(
        `INSERT INTO monitor_alerts (alert_id, site, version_id, alarm_seq, document, incident_id, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT DO NOTHING`,
        [alert.alertId, alert.site, alert.versionId, alert.alarmSeq, alertDocument(alert), alert.incidentId, Date.parse(alert.createdAt)],
      )) === 1
    );
  }

  async setAlertIncident(alertId: string, incidentId: string): Promise<void> {
    await this.#run('UPDATE monitor_alerts SET incident_id = $2 WHERE alert_id = $1', [alertId, incidentId]);
  }

  async getAlert(alertId: string): Promise<StoredAlert | undefined> {
    const rows = await this.#query<{ document: string; incident_id: string | null }>('SELECT document, incident_id FROM monitor_alerts WHERE alert_id = $1', [
      alertId,
    ]);
    return rows[0] === undefined ? undefined : alertOf(rows[0].document, rows[0].incident_id);
  }

  async listAlerts(filter: { readonly site?: string; readonly versionId?: string; readonly limit: number }): Promise<readonly StoredAlert[]> {
    const rows = await this.#query<{ document: string; incident_id: string | null }>(
      `SELECT document, incident_id FROM monitor_alerts WHERE ($1::text IS NULL OR site = $1) AND ($2::text IS NULL OR version_id = $2)
       ORDER BY created_at_ms DESC, alarm_seq DESC, alert_id COLLATE "C" DESC LIMIT $3`,
      [filter.site ?? null, filter.versionId ?? null, filter.limit],
    );
    return rows.map((r) => alertOf(r.document, r.incident_id));
  }

  async #query<Row extends object>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row>(sql, values)).rows;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async #run(sql: string, values: unknown[]): Promise<number> {
    try {
      return (await this.pool.query(sql, values)).rowCount ?? 0;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
