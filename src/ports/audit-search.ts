import type { AuditEntry } from '../domain/audit/audit-event.js';

export interface AuditQuery {
  /** Only entries of this event type (`decision`, `case_read`, `login_failed`, …). */
  readonly type?: string;
  /** Only entries appended at or after this time (ISO 8601, UTC). */
  readonly since?: string;
  /** Only entries appended before this time. */
  readonly until?: string;
  /** Only entries older than this one (its zero-based index): the paging cursor. */
  readonly beforeIndex?: number;
  readonly limit: number;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: readonly AuditEntry[];
  /** Index of the last entry returned, when older entries may match: pass it as `beforeIndex` for the next page. */
  readonly nextBeforeIndex?: number;
}

/** Searching the audit log (read-only; the log itself is ports/audit-log.ts). */
export interface AuditSearch {
  search(query: AuditQuery): Promise<AuditPage>;
}
