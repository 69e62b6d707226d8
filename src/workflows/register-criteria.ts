import { parseCriteria, type Criterion } from '../domain/evaluation/acceptance-criteria.js';
import type { AuditCitation, EvaluationAuditTrail } from '../ports/evaluation-audit.js';
import type { EvaluationDataSource } from '../ports/evaluation-data.js';

export interface CriteriaRegistration extends AuditCitation {
  readonly sha256: string;
  /** True when this call appended the entry; false when the same file was registered before. */
  readonly appended: boolean;
  /** Who appended the entry: `vigil criteria register`, or the start of an evaluation (this one, or an earlier one). */
  readonly registeredBy: 'register' | 'evaluation';
  readonly criteria: readonly Criterion[];
}

/**
 * The registration of these criteria in the audit log: the earliest `criteria_registered` entry
 * for the file's SHA-256, or a new one. A file that does not parse is refused (CRITERIA_INVALID)
 * before anything is appended.
 */
export async function ensureCriteriaRegistered(
  audit: EvaluationAuditTrail,
  file: { readonly text: string; readonly sha256: string },
  registeredBy: 'register' | 'evaluation',
): Promise<CriteriaRegistration> {
  const criteria = parseCriteria(file.text);
  const earlier = await audit.findCriteriaRegistration(file.sha256);
  if (earlier !== undefined)
    return { auditId: earlier.auditId, time: earlier.time, registeredBy: earlier.registeredBy, sha256: file.sha256, appended: false, criteria };
  const entry = await audit.append({ type: 'criteria_registered', sha256: file.sha256, criteria: criteria.map((c) => c.text), registeredBy });
  return { ...entry, registeredBy, sha256: file.sha256, appended: true, criteria };
}

/**
 * `vigil criteria register FILE`: fixes acceptance criteria in the audit log (hash, criteria, time)
 * before the evaluation that will be judged by them, so its report can show they came first.
 */
export async function registerCriteria(
  deps: { readonly data: EvaluationDataSource; readonly audit: EvaluationAuditTrail },
  path: string,
): Promise<CriteriaRegistration> {
  return ensureCriteriaRegistered(deps.audit, await deps.data.readText(path), 'register');
}
