/**
 * How precisely a calibrated probability may be shown. A model whose expected calibration error (ECE)
 * on held-out data is 0.09 is, on average, 9 points off in its stated probabilities: "100.0 %" or
 * "97.3 %" claims a precision it does not have. So the display step is the smallest of a few round
 * steps that is at least the model's calibration error, the probability is rounded to that step, and a
 * probability that rounds to 0 or 1 is shown as below or above half a step from it ("> 0.95"): never
 * 0 or 1, which would claim certainty.
 *
 * The calibration error is the worst ECE (after calibration) the manifest reports on a split the model
 * was not trained on (`metrics.<split>.eceAfter`, else `metrics.<split>.ece`, else the calibration
 * fit's `eceAfter`): the honest estimate is the worst one, e.g. a test set from another source. With no
 * reported ECE the step is the coarsest (0.2): nothing supports more.
 */

/** The steps a probability may be shown in, finest first. */
export const PROBABILITY_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2] as const;
export type ProbabilityStep = (typeof PROBABILITY_STEPS)[number];

/** The finest step at least as large as the calibration error (the coarsest when it is unknown or larger). */
export function probabilityStep(calibrationError: number | undefined): ProbabilityStep {
  const coarsest = PROBABILITY_STEPS[PROBABILITY_STEPS.length - 1] as ProbabilityStep;
  if (calibrationError === undefined || !Number.isFinite(calibrationError) || calibrationError < 0) return coarsest;
  return PROBABILITY_STEPS.find((step) => step >= calibrationError) ?? coarsest;
}

export interface DisplayedProbability {
  /** `≈ 0.9`, `> 0.95`, `< 0.05`. */
  readonly text: string;
  /** The interval the text stands for: [value − step/2, value + step/2], or [1 − step/2, 1], or [0, step/2]. */
  readonly low: number;
  readonly high: number;
  readonly step: ProbabilityStep;
}

const decimalsOf = (step: ProbabilityStep): number => (step >= 0.1 ? 1 : 2);

/**
 * A calibrated probability as text, at the precision the model's calibration supports.
 *
 * @example displayProbability(0.9997, 0.095).text // '> 0.95'
 * @example displayProbability(0.874, 0.095).text // '≈ 0.9'
 * @example displayProbability(0.874, 0.015).text // '≈ 0.88'
 */
export function displayProbability(probability: number, calibrationError: number | undefined): DisplayedProbability {
  const step = probabilityStep(calibrationError);
  const decimals = decimalsOf(step);
  // Half a step, written with one more decimal (0.05, 0.025, 0.005).
  const half = step / 2;
  const halfText = String(Number(half.toFixed(decimals + 1)));
  if (!Number.isFinite(probability)) return { text: 'unknown', low: 0, high: 1, step };
  const p = Math.min(1, Math.max(0, probability));
  const units = Math.round(p / step);
  const top = Math.round(1 / step);
  if (units >= top) return { text: `> ${String(Number((1 - half).toFixed(decimals + 1)))}`, low: 1 - half, high: 1, step };
  if (units <= 0) return { text: `< ${halfText}`, low: 0, high: half, step };
  const value = units * step;
  return { text: `≈ ${value.toFixed(decimals)}`, low: value - half, high: value + half, step };
}

/**
 * The calibration error a model bundle's manifest reports: the worst held-out ECE after calibration
 * (see above), or undefined when it reports none. Takes the manifest as plain data (the API hands it
 * so), reading only numbers it finds.
 */
export function reportedCalibrationError(manifest: { readonly metrics?: unknown; readonly calibration?: unknown }): number | undefined {
  const found: number[] = [];
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1 ? v : undefined);
  if (isRecord(manifest.metrics)) {
    for (const [split, value] of Object.entries(manifest.metrics)) {
      if (split === 'train' || !isRecord(value)) continue;
      const ece = num(value['eceAfter']) ?? num(value['ece']);
      if (ece !== undefined) found.push(ece);
    }
  }
  if (found.length === 0 && isRecord(manifest.calibration) && isRecord(manifest.calibration['fit'])) {
    const ece = num(manifest.calibration['fit']['eceAfter']);
    if (ece !== undefined) found.push(ece);
  }
  return found.length === 0 ? undefined : Math.max(...found);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
