import type { AuditEntry } from '../../domain/audit/audit-event.js';
import { PlatformError } from '../../domain/errors.js';
import type { AuditPage, AuditQuery, AuditSearch } from '../../ports/audit-search.js';
import type { PostgresPool } from './open-postgres.js';

/**
 * Audit search over PostgreSQL's `audit_entries` (migration 1; the type index is migration 6): the
 * one log every server appends to, so a search at any server finds what all of them recorded. Times
 * are compared as text in the "C" collation: every stored time is `Date.toISOString()` output, which
 * sorts byte-wise as it reads, whatever the database's default collation.
 */
export class PostgresAuditSearch implements AuditSearch {
  constructor(private readonly pool: PostgresPool) {}

  async search(query: AuditQuery): Promise<AuditPage> {
    const filters: [string, string | number | undefined][] = [
      ['type = $', query.type],
      ['time COLLATE "C" >= $', query.since],
      ['time COLLATE "C" < $', query.until],
      ['idx < $', query.beforeIndex],
    ];
    const used = filters.filter((f): f is [string, string | number] => f[1] !== undefined);
    const where = used.map(([clause], i) => `${clause}${i + 1}`);
    const values = used.map(([, value]) => value);
    let rows: { idx: number; body: string }[];
    try {
      // One more than asked tells whether another page exists.
      rows = (
        await this.pool.query<{ idx: number; body: string }>(
          `SELECT idx, body FROM audit_entries ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY idx DESC LIMIT $${values.length + 1}`,
          [...values, query.limit + 1],
        )
      ).rows;
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The audit log could not be searched', {}, { cause });
    }
    const entries = rows.slice(0, query.limit).map((row) => parseBody(row.body));
    const last = entries.at(-1);
    return rows.length > query.limit && last !== undefined ? { entries, nextBeforeIndex: last.index } : { entries };
  }
}

function parseBody(body: string): AuditEntry {
  try {
    const parsed = JSON.parse(body) as AuditEntry;
    if (typeof parsed.auditId === 'string' && typeof parsed.index === 'number' && typeof parsed.event?.type === 'string') return parsed;
  } catch {
    // Reported below.
  }
  throw new PlatformError('AUDIT_VERIFY_FAILED', 'A stored audit entry is not valid JSON; run verify', {});
}
