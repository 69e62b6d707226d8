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
}

/** Any output referred to a human: the result is preliminary until someone reads it. */
export function isPreliminary(result: Pick<CaseResult, 'images'>): boolean {
  return result.images.some((image) => image.outputs.some((o) => o.decision === 'refer'));
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
