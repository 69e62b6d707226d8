import type { Calibration, DecisionPolicy, ReferenceDistribution } from '../model/model-manifest.js';
import { IMAGE_FEATURE_NAMES, type ImageFeatures } from '../quality/image-features.js';
import {
  compareWithSketch,
  type DistributionSketch,
  holmAdjust,
  sketchDistribution,
  SKETCH_LEVELS,
  testHomogeneity,
  type SketchComparison,
} from './binned-shift-test.js';

/**
 * The per-image variables a dataset is compared on: the gate's image features (image-features.ts),
 * the noise estimate (quality/noise.ts), the out-of-distribution distance the gate thresholds, and
 * the source image's size. Each with the words a report uses for it.
 */
export const SHIFT_FEATURES = [
  ['mean', 'mean intensity'],
  ['std', 'contrast (standard deviation)'],
  ['p01', 'intensity, 1st percentile'],
  ['p05', 'intensity, 5th percentile'],
  ['p25', 'intensity, 25th percentile'],
  ['p50', 'intensity, median'],
  ['p75', 'intensity, 75th percentile'],
  ['p95', 'intensity, 95th percentile'],
  ['p99', 'intensity, 99th percentile'],
  ['laplacianVariance', 'sharpness (Laplacian variance)'],
  ['saturatedFraction', 'saturated fraction'],
  ['dynamicRange', 'dynamic range (p99 − p01)'],
  ['noise', 'noise (Immerkær estimate)'],
  ['oodDistance', 'distance from the training data (Mahalanobis)'],
  ['rows', 'image height (rows, as received)'],
  ['columns', 'image width (columns, as received)'],
] as const satisfies readonly (readonly [string, string])[];

export type ShiftFeatureName = (typeof SHIFT_FEATURES)[number][0];
export type ShiftFeatureValues = Readonly<Record<ShiftFeatureName, number>>;

const LABELS: ReadonlyMap<string, string> = new Map<string, string>([
  ...SHIFT_FEATURES,
  ['probability', 'calibrated probability'],
  ['positiveRate', 'positive rate'],
  ['referRate', 'refer rate'],
  ['gateRejectRate', 'gate reject rate'],
  ['gateWarnRate', 'gate warn rate'],
]);

/** One image's shift variables, from the gate's features and what the image and the gate measured besides. */
export function shiftFeaturesOf(
  features: ImageFeatures,
  extra: { readonly noise: number; readonly oodDistance: number; readonly rows: number; readonly columns: number },
): ShiftFeatureValues {
  const out: Record<string, number> = {};
  for (const name of IMAGE_FEATURE_NAMES) out[name] = features[name];
  return { ...(out as Record<(typeof IMAGE_FEATURE_NAMES)[number], number>), ...extra };
}

/** A dataset as the comparison sees it: per-image variables of every readable image, the gate's counts, and the model's outputs. */
export interface ShiftSample {
  /** One array per SHIFT_FEATURES name, one value per readable image (NaN values are left out of that variable). */
  readonly features: ReadonlyMap<string, ArrayLike<number>>;
  readonly gate: { readonly n: number; readonly rejected: number; readonly warned: number };
  /** Calibrated probabilities and decisions of the images the gate let through, for one finding. */
  readonly outputs?: {
    readonly finding: string;
    readonly computedUnder: string;
    readonly probability: ArrayLike<number>;
    readonly positive: number;
    readonly referred: number;
  };
}

/**
 * The canonical text of what a model's outputs depend on beyond the image: the calibration (without
 * its `fit` record) and the finding's threshold, abstain band and gate-warning rule. The reference's
 * outputs are compared only while a bundle's text is the same.
 */
export function outputsComputedUnder(calibration: Calibration, finding: string, policy: DecisionPolicy): string {
  const { fit: _fit, ...rule } = calibration as Calibration & { fit?: unknown };
  return JSON.stringify({ finding, calibration: rule, threshold: policy.threshold, abstainBand: policy.abstainBand, onGateWarn: policy.onGateWarn });
}

/** Builds the bundle's reference section from a validation set's sample. */
export function buildReferenceDistribution(sample: ShiftSample, source: ReferenceDistribution['source']): ReferenceDistribution {
  const features: Record<string, ReferenceDistribution['features'][string]> = {};
  for (const [name] of SHIFT_FEATURES) {
    const values = finiteValues(sample.features.get(name) ?? []);
    if (values.length > 0) features[name] = mutableSketch(sketchDistribution(values, SKETCH_LEVELS));
  }
  const o = sample.outputs;
  return {
    source,
    quantileLevels: [...SKETCH_LEVELS],
    features,
    gate: { ...sample.gate },
    ...(o === undefined || o.probability.length === 0
      ? {}
      : {
          outputs: {
            finding: o.finding,
            computedUnder: o.computedUnder,
            // Quantiles are stored at full precision (JSON round-trips a double exactly): a rounded edge could
            // move across a value that the stored counts put on its other side.
            probability: mutableSketch(sketchDistribution(finiteValues(o.probability), SKETCH_LEVELS)),
            n: o.probability.length,
            positive: o.positive,
            referred: o.referred,
          },
        }),
  };
}

function mutableSketch(s: DistributionSketch): ReferenceDistribution['features'][string] {
  return { n: s.n, quantiles: [...s.quantiles], counts: [...s.counts] };
}

function finiteValues(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).filter((v) => Number.isFinite(v));
}

/** One row of the comparison: a variable, its test, its effect, and whether it differs after Holm's adjustment. */
export interface ShiftRow {
  readonly name: string;
  readonly label: string;
  readonly kind: 'image' | 'output' | 'rate';
  readonly referenceN: number;
  readonly evaluatedN: number;
  readonly statistic: number;
  readonly df: number;
  readonly pValue: number;
  readonly log10PValue: number;
  /** Holm-adjusted over every testable row; null when the row could not be tested. */
  readonly adjustedPValue: number | null;
  readonly psi: number;
  /**
   * The PSI expected with no shift at all, from sampling alone: about df · (1/n_ref + 1/n_eval) (the
   * Jeffreys divergence of two multinomial samples is asymptotically that over χ²). With 20 bins and
   * a few hundred images it is near 0.1, so PSI's usual reading must be taken against it.
   */
  readonly psiNoShift: number;
  /** P(evaluated > reference) + ½ P(tie), from the bins (0.5: no shift in location). */
  readonly superiority: number;
  readonly differs: boolean;
  /** Why the row was not tested (too few cases or no variation). */
  readonly notTested?: string;
  /** Continuous variables: medians, the median shift in reference IQRs, and the reference level at the evaluated median. */
  readonly referenceMedian?: number;
  readonly evaluatedMedian?: number;
  readonly medianShiftIqr?: number | null;
  readonly medianAtReferenceLevel?: number;
  readonly beyond?: 'below' | 'above' | null;
  /** Rates: the reference's and the evaluated set's. */
  readonly referenceRate?: number;
  readonly evaluatedRate?: number;
  /** The merged bins, for a chart. */
  readonly bins: readonly { readonly upper: number | null; readonly reference: number; readonly evaluated: number }[];
  /** One sentence: "higher in 62 % of pairs; median at the reference's 70th percentile (+0.45 IQR); PSI 0.41, large". */
  readonly effect: string;
}

export type ShiftComparison =
  | {
      readonly status: 'compared';
      readonly shifted: boolean;
      readonly verdict: string;
      readonly alpha: number;
      readonly method: string;
      readonly reference: ReferenceDistribution['source'] & { readonly images: number };
      /** The evaluated set is the very data the reference was computed on (same SHA-256): nothing can differ. */
      readonly sameDataAsReference: boolean;
      /** Why the model's outputs were not compared, when they were not. */
      readonly outputsNotCompared?: string;
      readonly rows: readonly ShiftRow[];
    }
  | { readonly status: 'not_compared'; readonly reason: string };

export const SHIFT_ALPHA = 0.05;

export const SHIFT_METHOD =
  "Per variable, Pearson's chi-square test of homogeneity between the evaluated set and the bundle's reference (its validation data), " +
  'over 20 bins cut at the reference quantiles (5 % steps) and merged until every expected count is at least 5; rates as 2 × 2 tables. ' +
  "P-values adjusted by Holm's step-down method over all tested variables (family-wise error rate 0.05 under any dependence). " +
  'Effect: population stability index (PSI; < 0.1 little, 0.1–0.25 moderate, > 0.25 large, read against the PSI sampling alone gives, df · (1/n_ref + 1/n_eval)), ' +
  'the share of (evaluated, reference) pairs in which the evaluated value is higher (ties within a bin counted ½), and where the evaluated median falls in the reference.';

/** Compares a sample with the reference; `sameData`: the evaluated data's SHA-256 equals the reference's. */
export function compareDatasetShift(
  reference: ReferenceDistribution,
  sample: ShiftSample,
  options: { readonly sameData: boolean; readonly alpha?: number },
): ShiftComparison {
  const alpha = options.alpha ?? SHIFT_ALPHA;
  const levels = reference.quantileLevels;
  type Pending = Omit<ShiftRow, 'adjustedPValue' | 'differs' | 'effect'>;
  const pending: Pending[] = [];

  const continuous = (name: string, kind: 'image' | 'output', sketch: ReferenceDistribution['features'][string], values: Float64Array): void => {
    const c: SketchComparison = compareWithSketch(sketch, levels, values);
    pending.push({
      name,
      label: LABELS.get(name) ?? name,
      kind,
      referenceN: sketch.n,
      evaluatedN: values.length,
      statistic: c.statistic,
      df: c.df,
      pValue: c.pValue,
      log10PValue: c.log10PValue,
      psi: c.psi,
      psiNoShift: noShiftPsi(c.df, sketch.n, values.length),
      superiority: c.superiority,
      ...(c.testable ? {} : { notTested: values.length === 0 ? 'no value in the evaluated set' : 'too few cases or no variation to compare' }),
      referenceMedian: c.referenceMedian,
      evaluatedMedian: c.evaluatedMedian,
      medianShiftIqr: c.medianShiftIqr,
      medianAtReferenceLevel: c.medianAtReferenceLevel,
      beyond: c.beyond,
      bins: c.bins,
    });
  };
  const rate = (name: string, ref: { n: number; count: number }, evaluated: { n: number; count: number }): void => {
    const t = testHomogeneity([ref.n - ref.count, ref.count], [evaluated.n - evaluated.count, evaluated.count], [0, null]);
    pending.push({
      name,
      label: LABELS.get(name) ?? name,
      kind: 'rate',
      referenceN: ref.n,
      evaluatedN: evaluated.n,
      statistic: t.statistic,
      df: t.df,
      pValue: t.pValue,
      log10PValue: t.log10PValue,
      psi: t.psi,
      psiNoShift: noShiftPsi(t.df, ref.n, evaluated.n),
      superiority: t.superiority,
      ...(t.testable ? {} : { notTested: 'too few events in both sets together to compare (an expected count below 5)' }),
      referenceRate: ref.count / ref.n,
      evaluatedRate: evaluated.n === 0 ? Number.NaN : evaluated.count / evaluated.n,
      bins: t.bins,
    });
  };

  for (const [name] of SHIFT_FEATURES) {
    const sketch = reference.features[name];
    if (sketch === undefined) continue;
    continuous(name, 'image', sketch, finiteValues(sample.features.get(name) ?? []));
  }
  let outputsNotCompared: string | undefined;
  const ro = reference.outputs;
  const so = sample.outputs;
  if (ro === undefined) outputsNotCompared = 'the reference holds no model outputs';
  else if (so === undefined || so.probability.length === 0) outputsNotCompared = 'no image of the evaluated set reached the model';
  else if (ro.finding !== so.finding) outputsNotCompared = `the reference's outputs are for the finding "${ro.finding}", not "${so.finding}"`;
  else if (ro.computedUnder !== so.computedUnder) {
    outputsNotCompared =
      "the bundle's calibration or decision policy is not the one the reference's outputs were computed under (a derived bundle): the outputs are not comparable";
  } else {
    continuous('probability', 'output', ro.probability, finiteValues(so.probability));
    rate('positiveRate', { n: ro.n, count: ro.positive }, { n: so.probability.length, count: so.positive });
    rate('referRate', { n: ro.n, count: ro.referred }, { n: so.probability.length, count: so.referred });
  }
  rate('gateRejectRate', { n: reference.gate.n, count: reference.gate.rejected }, { n: sample.gate.n, count: sample.gate.rejected });
  rate('gateWarnRate', { n: reference.gate.n, count: reference.gate.warned }, { n: sample.gate.n, count: sample.gate.warned });

  const adjusted = holmAdjust(pending.map((r) => (r.notTested === undefined ? r.pValue : Number.NaN)));
  const rows: ShiftRow[] = pending.map((r, i) => {
    const adj = adjusted[i]!;
    const row = { ...r, adjustedPValue: Number.isNaN(adj) ? null : adj, differs: !Number.isNaN(adj) && adj < alpha };
    return { ...row, effect: describeEffect(row) };
  });
  const differing = rows.filter((r) => r.differs).sort((a, b) => b.psi - a.psi);
  const tested = rows.filter((r) => r.adjustedPValue !== null).length;
  const verdict = options.sameData
    ? `The evaluated set is the data the reference was computed on (same SHA-256): no shift can be detected against it.`
    : differing.length === 0
      ? `No shift detected: none of the ${tested} variables tested differs from the reference (Holm-adjusted p ≥ ${alpha}).`
      : `Differs from the reference in ${differing.length} of ${tested} variables: ${differing.map((r) => `${r.label} (${r.effect})`).join('; ')}.`;
  return {
    status: 'compared',
    shifted: !options.sameData && differing.length > 0,
    verdict,
    alpha,
    method: SHIFT_METHOD,
    reference: { ...reference.source, images: reference.gate.n },
    sameDataAsReference: options.sameData,
    ...(outputsNotCompared === undefined ? {} : { outputsNotCompared }),
    rows,
  };
}

function noShiftPsi(df: number, nr: number, ne: number): number {
  return nr > 0 && ne > 0 ? df * (1 / nr + 1 / ne) : 0;
}

function psiWord(psi: number): string {
  return psi < 0.1 ? 'little' : psi <= 0.25 ? 'moderate' : 'large';
}

function ordinal(level: number): string {
  const n = Math.round(level * 100);
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function describeEffect(r: Omit<ShiftRow, 'effect'>): string {
  const psi = `PSI ${r.psi.toFixed(2)}, ${psiWord(r.psi)} (about ${r.psiNoShift.toFixed(2)} expected without any shift)`;
  if (r.kind === 'rate') {
    const a = r.referenceRate ?? Number.NaN;
    const b = r.evaluatedRate ?? Number.NaN;
    return `${(100 * b).toFixed(1)} % against ${(100 * a).toFixed(1)} %, ${psi}`;
  }
  const m = r.medianAtReferenceLevel ?? Number.NaN;
  const where =
    r.beyond === 'below'
      ? `median below the reference's ${ordinal(m)} percentile`
      : r.beyond === 'above'
        ? `median above the reference's ${ordinal(m)} percentile`
        : `median at the reference's ${ordinal(m)} percentile`;
  const a = r.superiority;
  const direction = a >= 0.5 ? `higher in ${(100 * a).toFixed(0)} % of pairs` : `lower in ${(100 * (1 - a)).toFixed(0)} % of pairs`;
  const iqr =
    r.medianShiftIqr === null || r.medianShiftIqr === undefined ? '' : ` (${r.medianShiftIqr >= 0 ? '+' : '−'}${Math.abs(r.medianShiftIqr).toFixed(2)} IQR)`;
  return `${direction}; ${where}${iqr}; ${psi}`;
}
