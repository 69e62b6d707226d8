/**
 * Which judged images a human must look at. Everything the model did not decide with confidence, and
 * a random sample of what it did: the sample is how a site measures the model's real performance
 * (reviews are the ground truth monitoring uses), so confident cases must be sampled too.
 */
export type WorklistReason = 'model_referred' | 'gate_rejected' | 'gate_warned' | 'gate_unchecked' | 'random_sample';

export interface JudgedImage {
  readonly status: 'decided' | 'rejected' | 'error';
  readonly gateVerdict: 'pass' | 'warn' | 'reject' | null;
  /** A check the model's intended use restricts could not be made (a value unknown, a measure not computable). */
  readonly gateUnchecked: boolean;
  readonly decisions: readonly ('positive' | 'negative' | 'refer')[];
}

/**
 * The reasons an image goes to the worklist (empty: it does not). `sampleDraw` is a number in [0, 1)
 * drawn for this image (deterministically, by the caller), compared with `sampleRate`.
 */
export function worklistReasons(image: JudgedImage, sampleDraw: number, sampleRate: number): WorklistReason[] {
  if (image.status === 'error') return [];
  const reasons: WorklistReason[] = [];
  if (image.gateVerdict === 'reject') reasons.push('gate_rejected');
  if (image.gateVerdict === 'warn') reasons.push('gate_warned');
  // Said apart from the verdict, so a reviewer sees that something was not checked, not only that the gate warned.
  if (image.gateUnchecked) reasons.push('gate_unchecked');
  if (image.decisions.includes('refer')) reasons.push('model_referred');
  if (reasons.length === 0 && image.status === 'decided' && sampleDraw < sampleRate) reasons.push('random_sample');
  return reasons;
}

/** A reviewer's read of one image. */
export interface ReviewRead {
  /** Is the finding present? null: cannot tell (e.g. the image is not diagnostic). */
  readonly findingPresent: boolean | null;
  readonly imageQualityAdequate: boolean;
  /** Does the reviewer agree with the model's decision? null when the model made none (gate rejected). */
  readonly agreesWithModel: boolean | null;
  /** Free text, without identifiers (the UI says so; it is never logged). */
  readonly comment: string;
}
