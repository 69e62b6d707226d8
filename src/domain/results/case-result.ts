import type { ModelIdentity } from '../audit/audit-event.js';
import type { InstanceReference, StudyIdentity } from './result-identity.js';

export type ResultDecision = 'positive' | 'negative' | 'refer';

/** A coded concept as the model's manifest declares it (a FHIR-style system URI). */
export interface ConceptCode {
  readonly system: string;
  readonly code: string;
  readonly display: string;
}

export interface JudgedOutput {
  /** The manifest's finding label. */
  readonly finding: string;
  /** The manifest's code for the finding, when it declares one. */
  readonly code?: ConceptCode;
  /** Calibrated probability in [0, 1]. */
  readonly probability: number;
  readonly decision: ResultDecision;
}

export interface JudgedImage {
  /** The DICOM instance judged; absent for an uploaded PNG/JPEG image, which has none. */
  readonly source?: InstanceReference;
  /** 1-based frame number, for a frame of a multi-frame instance. */
  readonly frameNumber?: number;
  readonly outputs: readonly JudgedOutput[];
}

/**
 * A decided case as the result documents (DICOM SR, FHIR) state it, with the identity they carry:
 * the originals when Vigil re-identifies results (VIGIL_RESULTS_REIDENTIFY), else the pseudonyms.
 */
export interface CaseResult {
  readonly caseId: string;
  /** ISO 8601 UTC: when the case was judged. The documents' content time, so a resend is identical. */
  readonly judgedAt: string;
  readonly model: ModelIdentity;
  readonly vigilVersion: string;
  readonly studyInstanceUid: string;
  readonly study: StudyIdentity;
  /** Every instance of the study Vigil received (the SR's evidence). */
  readonly evidence: readonly InstanceReference[];
  /** The images the model judged (decided); never empty for a decided case. */
  readonly images: readonly JudgedImage[];
  /** Images of the study that were not judged (refused by the gate, or failed). */
  readonly notJudged: number;
  readonly reidentified: boolean;
  /**
   * The first case of the study whose result was issued: the report this case's result is a version
   * of. The case's own id when it replaces no earlier result.
   */
  readonly reportCaseId: string;
  /**
   * The latest earlier case of the study whose result was issued (it had a decided image), when this
   * case superseded it: this case's documents amend that one's.
   */
  readonly amends?: string;
  /** Present once a human has read the case: every worklist item of it has a recorded read. */
  readonly read?: CaseRead;
}

/** The reads reviewers recorded on a case (docs/api.md, "Review worklist"); never the free-text comment. */
export interface CaseRead {
  /** When the last of them was recorded (ISO 8601 UTC): the time of the documents issued after the read. */
  readonly at: string;
  readonly reads: readonly {
    readonly findingPresent: boolean | null;
    readonly imageQualityAdequate: boolean;
    readonly agreesWithModel: boolean | null;
  }[];
}

/** Any output referred to a human (the SR's Completion Flag is then PARTIAL). */
export function hasReferral(result: Pick<CaseResult, 'images'>): boolean {
  return result.images.some((image) => image.outputs.some((o) => o.decision === 'refer'));
}

/**
 * The status of a case's report (FHIR R4 ValueSet diagnostic-report-status, http://hl7.org/fhir/R4/valueset-diagnostic-report-status.html):
 * - `preliminary` until a human has read the case: a machine result nobody has verified (the value set
 *   files `preliminary` under `partial`, "data in the report may be incomplete or unverified");
 * - `final` once a human has read it ("complete and verified by an authorized person"): the report is
 *   issued again, stating the read;
 * - `amended` when the case superseded an earlier case whose result was issued: "the report has been
 *   modified ... any change in the results ... of a report that has been issued". It stays `amended`
 *   after a read (the read is stated in the conclusion and in the Observations' `final`).
 */
export function reportStatus(result: Pick<CaseResult, 'amends' | 'read'>): 'preliminary' | 'final' | 'amended' {
  if (result.amends !== undefined) return 'amended';
  return result.read === undefined ? 'preliminary' : 'final';
}

/** When the documents' current content was issued: the last read once there is one, else when the case was judged. */
export function issuedAt(result: Pick<CaseResult, 'judgedAt' | 'read'>): string {
  return result.read?.at ?? result.judgedAt;
}

export const DECISION_TEXT: Readonly<Record<ResultDecision, string>> = {
  positive: 'positive',
  negative: 'negative',
  refer: 'refer to human review',
};

/** One line per judged output, e.g. "pneumonia: positive (probability 0.993)". */
export function summarizeOutputs(result: Pick<CaseResult, 'images'>): string[] {
  return result.images.flatMap((image) =>
    image.outputs.map((o) => `${o.finding}: ${DECISION_TEXT[o.decision]} (probability ${formatProbability(o.probability)})`),
  );
}

/** Up to 6 decimals, no trailing zeros: short enough for a DICOM DS (16 characters). */
export function formatProbability(p: number): string {
  return String(Number(Math.min(1, Math.max(0, p)).toFixed(6)));
}

/** The SR's and the audit entry's name for what was said: never a patient attribute. */
export function machineResultNotice(model: ModelIdentity): string {
  return `Unverified machine result from ${model.id} ${model.version}; not reviewed by a clinician`;
}

/** What the report says about its reading: unverified, or what the reviewers recorded (counts, never their comments). */
export function readNotice(result: Pick<CaseResult, 'model' | 'read'>): string {
  const read = result.read;
  if (read === undefined) return machineResultNotice(result.model);
  const count = (pick: (r: CaseRead['reads'][number]) => boolean): number => read.reads.filter(pick).length;
  const agrees = count((r) => r.agreesWithModel === true);
  const disagrees = count((r) => r.agreesWithModel === false);
  const present = count((r) => r.findingPresent === true);
  const absent = count((r) => r.findingPresent === false);
  const poor = count((r) => !r.imageQualityAdequate);
  return (
    `Machine result from ${result.model.id} ${result.model.version}, read by a clinician (${read.reads.length} read(s)): ` +
    `agrees with the model on ${agrees}, disagrees on ${disagrees}; finding present on ${present}, absent on ${absent}` +
    (poor > 0 ? `; image quality not adequate on ${poor}` : '')
  );
}
