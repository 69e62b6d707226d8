import type { AuditLog } from '../ports/audit-log.js';
import type { AuditSearch } from '../ports/audit-search.js';
import { scanAudit } from './scan-audit.js';
import type { AuditCitation, EvaluationAuditTrail } from '../ports/evaluation-audit.js';

const PAGE = 500;

/**
 * The evaluation's view of the audit log: appends (citing each entry by id and the time the log
 * gave it), and the earliest registration of a criteria file, found by reading every
 * `criteria_registered` entry (newest first, a page at a time; registrations are few).
 */
export function createEvaluationAuditTrail(log: () => AuditLog, search: () => Promise<AuditSearch>): EvaluationAuditTrail {
  return {
    async append(event) {
      const receipt = await log().append(event);
      const entry = await log().get(receipt.auditId);
      return { auditId: receipt.auditId, time: entry?.time ?? '' };
    },
    async findCriteriaRegistration(sha256) {
      const s = await search();
      let earliest: (AuditCitation & { index: number; registeredBy: 'register' | 'evaluation' }) | undefined;
      await scanAudit(s, { type: 'criteria_registered', pageSize: PAGE }, (entry) => {
        const event = entry.event;
        if (event.type === 'criteria_registered' && event.sha256 === sha256 && (earliest === undefined || entry.index < earliest.index)) {
          earliest = { auditId: entry.auditId, time: entry.time, index: entry.index, registeredBy: event.registeredBy };
        }
      });
      return earliest === undefined ? undefined : { auditId: earliest.auditId, time: earliest.time, registeredBy: earliest.registeredBy };
    },
  };
}
