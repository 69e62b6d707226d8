import type { AuditEntry } from '../domain/audit/audit-event.js';
import type { AuditSearch } from '../ports/audit-search.js';

/**
 * Visits every audit entry of one type (appended before `until`, when given), newest first, a page of
 * `pageSize` at a time, until `visit` returns true. The one way workflows walk the log by type.
 */
export async function scanAudit(
  search: AuditSearch,
  query: { readonly type: string; readonly until?: string; readonly pageSize?: number },
  visit: (entry: AuditEntry) => boolean | void,
): Promise<void> {
  let beforeIndex: number | undefined;
  for (;;) {
    const page = await search.search({
      type: query.type,
      limit: query.pageSize ?? 500,
      ...(query.until === undefined ? {} : { until: query.until }),
      ...(beforeIndex === undefined ? {} : { beforeIndex }),
    });
    for (const entry of page.entries) if (visit(entry) === true) return;
    if (page.nextBeforeIndex === undefined) return;
    beforeIndex = page.nextBeforeIndex;
  }
}
