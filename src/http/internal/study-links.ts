import type { CaseStore } from '../../ports/case-store.js';
import type { StudyRegistry } from '../../ports/study-registry.js';

/** Where a sender finds a study it sent, and its current result once it is judged (paths on this server). */
export interface StudyLinks {
  readonly studyKey: string;
  /** `GET /api/studies/{studyKey}`: the study, its state and its cases. */
  readonly study: string;
  /** `GET /dicomweb/studies/{pseudonymous Study Instance UID}`: WADO-RS of its result objects (absent until the study is known). */
  readonly dicomweb?: string;
  /** The study's current case, once judged: the case, and its FHIR result. */
  readonly currentCase?: { readonly caseId: string; readonly case: string; readonly fhir: string };
}

/** Most studies one response links (a STOW-RS request may span several studies). */
const MAX_LINKED_STUDIES = 100;

/** What links are made from. */
export interface StudyLinkSources {
  readonly studies: Pick<StudyRegistry, 'get'>;
  readonly cases: Pick<CaseStore, 'listForStudy'>;
}

export async function linkStudies(deps: StudyLinkSources, studyKeys: Iterable<string>): Promise<StudyLinks[]> {
  const links: StudyLinks[] = [];
  for (const studyKey of [...new Set(studyKeys)].slice(0, MAX_LINKED_STUDIES)) {
    const study = await deps.studies.get(studyKey);
    const current = (await deps.cases.listForStudy(studyKey)).find((c) => c.supersededBy === null);
    const caseUrl = current === undefined ? undefined : `/api/cases/${encodeURIComponent(current.caseId)}`;
    links.push({
      studyKey,
      study: `/api/studies/${studyKey}`,
      ...(study === undefined ? {} : { dicomweb: `/dicomweb/studies/${study.studyUid}` }),
      ...(current === undefined || caseUrl === undefined ? {} : { currentCase: { caseId: current.caseId, case: caseUrl, fhir: `${caseUrl}/fhir` } }),
    });
  }
  return links;
}
