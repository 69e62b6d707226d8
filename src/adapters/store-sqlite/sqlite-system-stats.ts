/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is. */
import type { JobState } from '../../domain/jobs/job.js';
import type { DecisionCounts, SystemStats } from '../../ports/system-stats.js';
import type { SqliteDatabase } from './open-sqlite.js';

/**
 * Health-page counts with SQLite's JSON functions over the stored audit bodies (decision entries
 * hold the gate verdict and each finding's decision), the job queue and the study and case tables.
 */
export class SqliteSystemStats implements SystemStats {
  constructor(private readonly db: SqliteDatabase) {}

  async jobsByKind(): Promise<readonly { kind: string; state: JobState; count: number }[]> {
    return this.db
      .prepare<[], { kind: string; state: JobState; count: number }>(
        'SELECT kind, state, count(*) AS count FROM jobs GROUP BY kind, state ORDER BY kind, state',
      )
      .all();
  }

  async decisionsSince(sinceIso: string): Promise<DecisionCounts> {
    // A server's decisions: origin `server`, or none (written before the origin was recorded); not a
    // command line's, nor a shadow candidate's (recorded beside production, never acted on).
    const server = `coalesce(json_extract(body, '$.event.origin'), 'server') = 'server'`;
    const verdicts = this.db
      .prepare<[string], { key: string | null; count: number }>(
        `SELECT json_extract(body, '$.event.gate.verdict') AS key, count(*) AS count FROM audit_entries
         WHERE type = 'decision' AND time >= ? AND ${server} GROUP BY key`,
      )
      .all(sinceIso);
    const rejected = this.db
      .prepare<[string], number>(
        `SELECT count(*) FROM audit_entries WHERE type = 'decision' AND time >= ? AND ${server} AND json_extract(body, '$.event.status') = 'rejected'`,
      )
      .pluck()
      .get(sinceIso);
    const decisions = this.db
      .prepare<[string], { key: string | null; count: number }>(
        // GROUP BY 1, not `key`: that name is json_each's own column (the array index), which SQLite groups by first.
        `SELECT json_extract(o.value, '$.decision') AS key, count(*) AS count
         FROM audit_entries a, json_each(a.body, '$.event.outputs') o
         WHERE a.type = 'decision' AND a.time >= ? AND coalesce(json_extract(a.body, '$.event.origin'), 'server') = 'server' GROUP BY 1`,
      )
      .all(sinceIso);
    const commandLine = this.db
      .prepare<[string], number>(`SELECT count(*) FROM audit_entries WHERE type = 'decision' AND time >= ? AND json_extract(body, '$.event.origin') = 'cli'`)
      .pluck()
      .get(sinceIso);
    const record = (rows: { key: string | null; count: number }[]) => Object.fromEntries(rows.map((r) => [r.key ?? 'unknown', r.count]));
    return {
      images: verdicts.reduce((sum, r) => sum + r.count, 0),
      commandLineImages: commandLine ?? 0,
      gateRejected: rejected ?? 0,
      byGateVerdict: record(verdicts),
      byDecision: record(decisions),
    };
  }

  async resultLatenciesSince(sinceMs: number): Promise<readonly number[]> {
    return this.db
      .prepare<[number], number>(
        `SELECT c.created_at_ms - s.last_received_at_ms FROM cases c JOIN studies s ON s.study_key = c.study_key
         WHERE c.created_at_ms >= ? ORDER BY 1`,
      )
      .pluck()
      .all(sinceMs);
  }
}
