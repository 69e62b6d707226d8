import type { Principal } from '../domain/access/roles.js';
import type { CaseReadEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { CaseRecord, CaseStore } from '../ports/case-store.js';
import type { StudyQuery, StudyRecord, StudyRegistry } from '../ports/study-registry.js';
import { assertCaseInScope, assertStudyInScope, scopeFilter, sentStudyKeys } from './study-scope.js';
import type { VigilServices } from './vigil-services.js';

export interface StudyReadsDependencies {
  readonly studies: Pick<StudyRegistry, 'get' | 'search' | 'wasSentBy'>;
  readonly cases: Pick<CaseStore, 'get' | 'listForStudy'>;
  readonly studyLookupKeys: VigilServices['studyLookupKeys'];
  readonly recordAudit: (event: CaseReadEvent) => Promise<unknown>;
}

/** What a sender searches by: the values it sent, never stored (keyed pseudonyms find them). */
export interface SentStudySearch {
  readonly studyInstanceUid?: string | undefined;
  readonly accessionNumber?: string | undefined;
}

/**
 * Reading studies and cases through the API and DICOMweb: each read stays within the reader's study
 * scope (domain/access/roles.ts: an integration sees only what it sent; anything else is 404, exactly as
 * an unknown key, so that a sender cannot learn which other studies exist), and each read of a study, a
 * case, a case's image or its result is a `case_read` audit entry (who, by surrogate id and role).
 */
export interface StudyReads {
  /** Studies newest first within the reader's scope; with sent values, only the studies sent with them. */
  search(reader: Principal, query: Omit<StudyQuery, 'studyKey' | 'accessionKey' | 'sentBy'> & SentStudySearch): Promise<readonly StudyRecord[]>;
  /** A study and its cases (audited). */
  study(reader: Principal, studyKey: string): Promise<{ readonly study: StudyRecord; readonly cases: readonly CaseRecord[] }>;
  /** A case (audited). */
  case(reader: Principal, caseId: string): Promise<CaseRecord>;
  /** Something read from a case in the reader's scope (its image, its result), audited as a read of the case. */
  fromCase<T extends { readonly studyKey: string }>(reader: Principal, caseId: string, read: () => Promise<T>): Promise<T>;
  /** The study a DICOMweb path names (by its pseudonymous or its sent Study Instance UID), within the reader's scope; not audited. */
  studyByUid(reader: Principal, studyUid: string): Promise<StudyRecord>;
  /** Records the reader's read of these cases of a study (a DICOMweb retrieval of their result objects). */
  recordCaseReads(reader: Principal, studyKey: string, caseIds: Iterable<string>): Promise<void>;
}

export function createStudyReads(deps: StudyReadsDependencies): StudyReads {
  const audit = (reader: Principal, studyKey: string, caseId: string | null) =>
    deps.recordAudit({ type: 'case_read', studyKey, caseId, userId: reader.userId, role: reader.role });
  const lookup = { studyLookupKeys: deps.studyLookupKeys };
  return {
    async search(reader, query) {
      const { studyInstanceUid, accessionNumber, ...rest } = query;
      const keys = await sentStudyKeys(lookup, { studyInstanceUid, accessionNumber });
      if (keys === undefined) return [];
      return deps.studies.search({ ...rest, ...keys, ...scopeFilter(reader) });
    },
    async study(reader, studyKey) {
      await assertStudyInScope(deps.studies, reader, studyKey);
      const study = await deps.studies.get(studyKey);
      if (study === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this key');
      await audit(reader, study.studyKey, null);
      return { study, cases: await deps.cases.listForStudy(study.studyKey) };
    },
    async case(reader, caseId) {
      await assertCaseInScope(deps, reader, caseId);
      const found = await deps.cases.get(caseId);
      if (found === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No case has this id');
      await audit(reader, found.studyKey, found.caseId);
      return found;
    },
    async fromCase(reader, caseId, read) {
      await assertCaseInScope(deps, reader, caseId);
      const value = await read();
      await audit(reader, value.studyKey, caseId);
      return value;
    },
    async studyByUid(reader, studyUid) {
      const { studyKey } = await deps.studyLookupKeys({ studyInstanceUid: studyUid });
      if (studyKey === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this UID');
      await assertStudyInScope(deps.studies, reader, studyKey);
      const study = await deps.studies.get(studyKey);
      if (study === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No study has this UID');
      return study;
    },
    async recordCaseReads(reader, studyKey, caseIds) {
      for (const caseId of new Set(caseIds)) await audit(reader, studyKey, caseId);
    },
  };
}
