/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the method is async because the port is. */
import type { AuditEntry } from '../../domain/audit/audit-event.js';
import { PlatformError } from '../../domain/errors.js';
import type { AuditPage, AuditQuery, AuditSearch } from '../../ports/audit-search.js';
import type { SqliteDatabase } from './open-sqlite.js';

/**
 * Audit search over the `audit_entries` table (migration 1; the type index is migration 6). Times
 * are compared as text: every stored time is `Date.toISOString()` output, which sorts as it reads.
 */
export class SqliteAuditSearch implements AuditSearch {
  constructor(private readonly db: SqliteDatabase) {}

  async search(query: AuditQuery): Promise<AuditPage> {
    const filters: [string, string | number | undefined][] = [
      ['type = ?', query.type],
      ['time >= ?', query.since],
      ['time < ?', query.until],
      ['idx < ?', query.beforeIndex],
    ];
    const used = filters.filter((f): f is [string, string | number] => f[1] !== undefined);
    const where = used.map(([clause]) => clause);
    const values = used.map(([, value]) => value);
    // One more than asked tells whether another page exists.
    const rows = this.db
      .prepare<(string | number)[], { idx: number; body: string }>(
        `SELECT idx, body FROM audit_entries ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY idx DESC LIMIT ?`,
      )
      .all(...values, query.limit + 1);
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
