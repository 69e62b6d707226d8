import { studyScopeOf, type Principal } from '../domain/access/roles.js';
import { PlatformError } from '../domain/errors.js';
import type { CaseStore } from '../ports/case-store.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { VigilServices } from './vigil-services.js';

/** The filter a principal's study scope adds to a search: its own user id when it reads only what it sent. */
export function scopeFilter(principal: Principal): { readonly sentBy?: string } {
  const scope = studyScopeOf(principal);
  return scope.kind === 'all' ? {} : { sentBy: scope.userId };
}

/**
 * Refuses a study outside the principal's scope (domain/access/roles.ts, STUDY_SCOPE) exactly as an
 * unknown one: 404, so that a sender cannot learn which other studies exist.
 */
export async function assertStudyInScope(studies: Pick<StudyRegistry, 'wasSentBy'>, principal: Principal, studyKey: string): Promise<void> {
  const scope = studyScopeOf(principal);
  if (scope.kind === 'sent' && !(await studies.wasSentBy(studyKey, scope.userId))) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this key');
}

/** The same for a case: its study must be in scope (404 `No case has this id` otherwise, as for an unknown case). */
export async function assertCaseInScope(
  deps: { readonly studies: Pick<StudyRegistry, 'wasSentBy'>; readonly cases: Pick<CaseStore, 'get'> },
  principal: Principal,
  caseId: string,
): Promise<void> {
  const scope = studyScopeOf(principal);
  if (scope.kind === 'all') return;
  const found = await deps.cases.get(caseId);
  if (found === undefined || !(await deps.studies.wasSentBy(found.studyKey, scope.userId))) throw new PlatformError('ROUTE_NOT_FOUND', 'No case has this id');
}

/**
 * The search keys for what a sender sent (its Study Instance UID, its Accession Number), computed as
 * ingest computes them; undefined when the search cannot match anything (an Accession Number that is
 * only padding keys to nothing).
 */
export async function sentStudyKeys(
  services: Pick<VigilServices, 'studyLookupKeys'>,
  sent: { readonly studyInstanceUid: string | undefined; readonly accessionNumber: string | undefined },
): Promise<{ readonly studyKey?: string; readonly accessionKey?: string } | undefined> {
  const { studyInstanceUid, accessionNumber } = sent;
  if (studyInstanceUid === undefined && accessionNumber === undefined) return {};
  const keys = await services.studyLookupKeys({
    ...(studyInstanceUid === undefined ? {} : { studyInstanceUid }),
    ...(accessionNumber === undefined ? {} : { accessionNumber }),
  });
  return accessionNumber !== undefined && keys.accessionKey === undefined ? undefined : keys;
}
