import type { JobState } from '../../domain/jobs/job.js';
import { PlatformError } from '../../domain/errors.js';
import type { DecisionCounts, SystemStats } from '../../ports/system-stats.js';
import type { PostgresPool } from './open-postgres.js';

type CountRow = { key: string | null; count: number };

/**
 * Health-page counts in PostgreSQL, over the whole cluster's job queue, audit log, studies and cases.
 * Audit bodies are stored as canonical JSON text (what the Merkle leaves hash), so they are cast to
 * jsonb here; times compare as text in the "C" collation (ISO 8601 output sorts byte-wise).
 */
export class PostgresSystemStats implements SystemStats {
  constructor(private readonly pool: PostgresPool) {}

  async #rows<Row extends object>(sql: string, values: unknown[]): Promise<Row[]> {
    try {
      return (await this.pool.query<Row & Record<string, unknown>>(sql, values)).rows;
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The system counts could not be read', {}, { cause });
    }
  }

  async jobsByKind(): Promise<readonly { kind: string; state: JobState; count: number }[]> {
    // Byte order, as SQLite sorts.
    return this.#rows('SELECT kind, state, count(*) AS count FROM jobs GROUP BY kind, state ORDER BY kind COLLATE "C", state COLLATE "C"', []);
  }

  async decisionsSince(sinceIso: string): Promise<DecisionCounts> {
    // One pass: parsing each body as jsonb is most of the cost (about 1.4 s for 150,000 decisions on
    // this machine's PostgreSQL 15), so the rows are parsed once and counted three ways. A missing or
    // non-array `outputs` contributes nothing, as SQLite's json_each does.
    // A server's decisions: origin `server`, or none (written before the origin was recorded); `vigil
    // predict`'s (origin `cli`) are counted apart, a shadow candidate's (origin `shadow`) not at all.
    const rows = await this.#rows<CountRow & { kind: 'verdict' | 'rejected' | 'decision' | 'cli' }>(
      `WITH a AS MATERIALIZED (
         SELECT a.body::jsonb -> 'event' AS e FROM audit_entries a WHERE a.type = 'decision' AND a.time COLLATE "C" >= $1
       ), d AS (SELECT e FROM a WHERE coalesce(e ->> 'origin', 'server') = 'server')
       SELECT 'cli' AS kind, NULL AS key, count(*) AS count FROM a WHERE e ->> 'origin' = 'cli'
       UNION ALL SELECT 'verdict' AS kind, e -> 'gate' ->> 'verdict' AS key, count(*) AS count FROM d GROUP BY 2
       UNION ALL SELECT 'rejected', NULL, count(*) FROM d WHERE e ->> 'status' = 'rejected'
       UNION ALL SELECT 'decision', o.value ->> 'decision', count(*)
         FROM d CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(e -> 'outputs') = 'array' THEN e -> 'outputs' ELSE '[]'::jsonb END) AS o (value)
         GROUP BY 2`,
      [sinceIso],
    );
    const record = (kind: 'verdict' | 'decision') => Object.fromEntries(rows.filter((r) => r.kind === kind).map((r) => [r.key ?? 'unknown', r.count]));
    const byGateVerdict = record('verdict');
    return {
      images: Object.values(byGateVerdict).reduce((sum, n) => sum + n, 0),
      commandLineImages: rows.find((r) => r.kind === 'cli')?.count ?? 0,
      gateRejected: rows.find((r) => r.kind === 'rejected')?.count ?? 0,
      byGateVerdict,
      byDecision: record('decision'),
    };
  }

  async resultLatenciesSince(sinceMs: number): Promise<readonly number[]> {
    const rows = await this.#rows<{ latency: number }>(
      `SELECT c.created_at_ms - s.last_received_at_ms AS latency FROM cases c JOIN studies s ON s.study_key = c.study_key
       WHERE c.created_at_ms >= $1 ORDER BY 1`,
      [sinceMs],
    );
    return rows.map((r) => r.latency);
  }
}
