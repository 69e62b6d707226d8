/**
 * Which judged images a human must look at. Everything the model did not decide with confidence, and
 * a random sample of what it did: the sample is how a site measures the model's real performance
 * (reviews are the ground truth monitoring uses), so confident cases must be sampled too.
 */
export const WORKLIST_REASONS = ['not_judged', 'model_referred', 'gate_rejected', 'gate_warned', 'gate_unchecked', 'random_sample'] as const;
export type WorklistReason = (typeof WORKLIST_REASONS)[number];

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
  // Nothing judged it (the image could not be read, the model failed, or the site is paused): a human
  // must, so it is never dropped silently.
  if (image.status === 'error') return ['not_judged'];
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

/**
 * How soon an item should be read, most urgent first: `referred` (nothing judged an image — it could
 * not be read, the model failed or the site's deployment is paused — or the model could not decide, or the
 * gate warned and the policy refers: a human decision is owed on an image the model saw), `warned`
 * (the gate warned but the model decided: a decision that stands on a doubtful image), `rejected` (the
 * gate refused the image: nothing was decided, the image only needs a look at why), `sampled` (a
 * confident decision drawn at random: quality assurance, never urgent). The index is the rank stored
 * and sorted on.
 */
export const WORKLIST_PRIORITIES = ['referred', 'warned', 'rejected', 'sampled'] as const;
export type WorklistPriority = (typeof WORKLIST_PRIORITIES)[number];

/** The order reasons are listed in: by the priority they give, then `gate_unchecked` (which only qualifies a verdict). */
const REASON_ORDER: readonly WorklistReason[] = ['not_judged', 'model_referred', 'gate_warned', 'gate_rejected', 'gate_unchecked', 'random_sample'];

/**
 * The priority a set of reasons gives: the most urgent of them. `gate_unchecked` qualifies the verdict
 * it comes with; alone (never seen in practice) it ranks as `warned`.
 *
 * @example worklistPriority(['gate_rejected', 'model_referred']) // 'referred'
 */
export function worklistPriority(reasons: readonly WorklistReason[]): WorklistPriority {
  if (reasons.includes('not_judged') || reasons.includes('model_referred')) return 'referred';
  if (reasons.includes('gate_warned')) return 'warned';
  if (reasons.includes('gate_rejected')) return 'rejected';
  return reasons.includes('gate_unchecked') ? 'warned' : 'sampled';
}

export function priorityRank(priority: WorklistPriority): number {
  return WORKLIST_PRIORITIES.indexOf(priority);
}

/** One worklist entry for a whole judged study: the images it covers, the reasons, the image shown first. */
export interface StudyWorklistEntry {
  /** The union of the covered images' reasons, most urgent first. */
  readonly reasons: readonly WorklistReason[];
  readonly priority: WorklistPriority;
  /** Indexes (into the case's results) of the images that gave a reason, ascending. */
  readonly resultIndexes: readonly number[];
  /** The image a reader sees first: the first of the most urgent ones. */
  readonly leadIndex: number;
  /**
   * The probability the study was put on the worklist, as decided now: 1 when a rule sent it, the sample
   * rate for a random sample. Kept with the item, so that performance from reviews weights the read by
   * the rate it was sampled at, not by a rate set since (workflows/monitoring.ts `performance`).
   */
  readonly samplingProbability: number;
}

/**
 * One entry per judged study, not one per image: a reading room reads studies (an exam, one accession),
 * and a 30-frame ultrasound cine or a 40-image CT series of rejected frames is one thing to look at,
 * not 30 or 40. Each image's reasons are those of `worklistReasons` without sampling; the study is
 * sampled as a whole (one draw, for the study) only when none of its images gave a reason, and a
 * sampled study covers its decided images. Undefined when the study does not go to the worklist.
 */
export function studyWorklistEntry(images: readonly JudgedImage[], sampleDraw: number, sampleRate: number): StudyWorklistEntry | undefined {
  const perImage = images.map((image) => worklistReasons(image, 1, 0));
  const covered = perImage.flatMap((reasons, index) => (reasons.length > 0 ? [index] : []));
  if (covered.length === 0) {
    const decided = images.flatMap((image, index) => (image.status === 'decided' ? [index] : []));
    if (decided.length === 0 || !(sampleDraw < sampleRate)) return undefined;
    return {
      reasons: ['random_sample'],
      priority: 'sampled',
      resultIndexes: decided,
      leadIndex: decided[0] as number,
      samplingProbability: Math.min(1, sampleRate),
    };
  }
  const union = new Set(covered.flatMap((index) => perImage[index] ?? []));
  const reasons = REASON_ORDER.filter((r) => union.has(r));
  const priority = worklistPriority(reasons);
  const leadIndex = covered.find((index) => worklistPriority(perImage[index] ?? []) === priority) as number;
  return { reasons, priority, resultIndexes: covered, leadIndex, samplingProbability: 1 };
}
