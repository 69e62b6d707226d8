import type { CriteriaRegisteredEvent, EvaluationCompletedEvent, EvaluationStartedEvent } from '../domain/audit/audit-event.js';

/** An entry as the evaluation cites it: its id and the time it was appended (ISO 8601 UTC). */
export interface AuditCitation {
  readonly auditId: string;
  readonly time: string;
}

/**
 * What evaluations write to, and look up in, the audit log: criteria registrations and the start
 * and end of each evaluation. Appends are durable when they resolve.
 */
export interface EvaluationAuditTrail {
  append(event: CriteriaRegisteredEvent | EvaluationStartedEvent | EvaluationCompletedEvent): Promise<AuditCitation>;
  /** The earliest `criteria_registered` entry for a criteria file of this SHA-256, if any, and who appended it. */
  findCriteriaRegistration(sha256: string): Promise<(AuditCitation & { readonly registeredBy: 'register' | 'evaluation' }) | undefined>;
}
