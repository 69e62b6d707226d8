import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { ResultSrDocument } from '../domain/results/result-sr.js';
import type { CaseStore } from '../ports/case-store.js';
import { assembleCaseResult, hasDecidedResult, resultSrFor, type CaseResultDependencies, type ResultIds } from './deliver-results.js';
import type { PredictResult } from './predict-images.js';

/** Most decided cases of one study whose SRs are served (a study re-judged more often serves its latest). */
export const MAX_RESULT_OBJECTS = 100;

/** One DICOM object Vigil made for a study (today: the Structured Report of a decided case). */
export interface ResultObject {
  readonly caseId: string;
  /** The study's current case (not superseded). */
  readonly current: boolean;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly seriesNumber: number;
  readonly instanceNumber: number;
  /** The Part 10 file. */
  readonly bytes: Uint8Array;
  /** Its dataset in DICOM JSON (PS3.18 F.2), for WADO-RS metadata. */
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface ResultObjectDependencies {
  readonly cases: Pick<CaseStore, 'listForStudy'>;
  /** Pseudonymous: no vault, so the SR names the study by the UIDs Vigil keeps (the ones QIDO-RS answers with). */
  readonly caseResults: Omit<CaseResultDependencies, 'vault'>;
  readonly ids: ResultIds;
  readonly deviceObserverUid: string;
  readonly writeSr: (document: ResultSrDocument) => Uint8Array;
  readonly srDicomJson: (document: ResultSrDocument) => Record<string, unknown>;
}

/**
 * Vigil's result objects of a study, for DICOMweb retrieval (WADO-RS): the SR of each decided case,
 * oldest first, pseudonymous (the de-identified study's UIDs), derived from the store as delivery
 * derives them, so every read gives the same bytes. A case with nothing decided has no SR; uploaded
 * PNG/JPEG studies have no DICOM evidence and so no SR either (their result is FHIR).
 */
export async function studyResultObjects(deps: ResultObjectDependencies, studyKey: string): Promise<ResultObject[]> {
  const cases = (await deps.cases.listForStudy(studyKey)).filter((c) => hasDecidedResult(c.results as readonly PredictResult[])).slice(-MAX_RESULT_OBJECTS);
  const objects: ResultObject[] = [];
  for (const record of cases) {
    let assembled;
    try {
      assembled = await assembleCaseResult(deps.caseResults, record.caseId);
    } catch (cause) {
      const error = toPlatformError(cause);
      if (error.code === 'RESULT_NOT_DECIDED') continue;
      throw error;
    }
    if (assembled.result.evidence.length === 0) continue;
    const document = resultSrFor(assembled.result, deps.ids, deps.deviceObserverUid);
    objects.push({
      caseId: record.caseId,
      current: record.supersededBy === null,
      studyInstanceUid: document.studyInstanceUid,
      seriesInstanceUid: document.seriesInstanceUid,
      sopInstanceUid: document.sopInstanceUid,
      sopClassUid: document.sopClassUid,
      seriesNumber: document.seriesNumber,
      instanceNumber: document.instanceNumber,
      bytes: deps.writeSr(document),
      metadata: deps.srDicomJson(document),
    });
  }
  return objects;
}

/** The one result object with these UIDs, or ROUTE_NOT_FOUND. */
export function findResultObject(objects: readonly ResultObject[], seriesUid: string, sopUid?: string): readonly ResultObject[] {
  const found = objects.filter((o) => o.seriesInstanceUid === seriesUid && (sopUid === undefined || o.sopInstanceUid === sopUid));
  if (found.length === 0)
    throw new PlatformError('ROUTE_NOT_FOUND', sopUid === undefined ? 'The study has no such result series' : 'The study has no such result instance');
  return found;
}
