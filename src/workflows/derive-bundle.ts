import { calibrateScore } from '../domain/calibration/calibrate.js';
import { PlatformError } from '../domain/errors.js';
import { brierScore, expectedCalibrationError } from '../domain/evaluation/calibration-metrics.js';
import { classConditionalConformalBand, mondrianBands, splitConformalBand } from '../domain/evaluation/conformal.js';
import { MISSING_LEVEL_TEXT } from '../domain/evaluation/evaluate-predictions.js';
import { fitCalibration, logLoss, type CalibrationMethod } from '../domain/evaluation/fit-calibration.js';
import { constrainedOperatingPoint, costOptimalOperatingPoint, type OperatingPoint } from '../domain/evaluation/operating-point.js';
import { confusionAt } from '../domain/evaluation/proportions.js';
import { bayesOperatingPoint, errorBoundedBand, type ErrorBoundedBand } from '../domain/evaluation/error-bounded-band.js';
import { stratifiedHalves } from '../domain/evaluation/random.js';
import { parseModelManifest, type ModelBundle } from '../domain/model/model-bundle.js';
import type { Calibration, DecisionPolicy, ModelManifest } from '../domain/model/model-manifest.js';
import type { Clock } from '../ports/clock.js';
import type { DatasetDeclaration, EvaluationDataSource, EvaluationOutput } from '../ports/evaluation-data.js';
import type { ModelSession } from '../ports/model-runner.js';
import { InferenceChain } from './inference-chain.js';
import type { InputKinds } from './input-kinds.js';
import { resolveDeclaration, scoreDataset, shiftSampleOf, type ScoredCases } from './score-dataset.js';
import { buildReferenceDistribution } from '../domain/drift/dataset-shift.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';

export interface DeriveDependencies {
  readonly data: EvaluationDataSource;
  readonly output: EvaluationOutput;
  readonly clock: Clock;
  /** The kinds of image file a dataset may hold (DICOM, PNG/JPEG). */
  readonly inputs: InputKinds;
  readonly batchSize: number;
  readonly vigilVersion: string;
  readonly openModel: (directory: string) => Promise<{ readonly bundle: ModelBundle; readonly session: ModelSession }>;
}

const ECE_BINS = 15;
const round6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Opens the request's dataset and model and scores the dataset through the inference chain. */
async function scoreRequest(
  deps: DeriveDependencies,
  request: { readonly modelDir: string; readonly dataset: string; readonly finding?: string; readonly declared?: RasterDeclaration },
  strata?: readonly string[],
) {
  const data = await deps.data.openDataset(request.dataset, strata === undefined ? {} : { strata });
  const declaration = resolveDeclaration(data.declaration, request.declared);
  const { bundle, session } = await deps.openModel(request.modelDir);
  const scored = await scoreDataset(
    {
      inputs: deps.inputs,
      chain: new InferenceChain(bundle, session),
      batchSize: deps.batchSize,
      ...(declaration === undefined ? {} : { declared: declaration.values }),
    },
    data,
    request.finding,
  );
  return { data, declaration, bundle, scored };
}

/** A fit needs at least two cases of each class among those the gate passed (EVAL_INSUFFICIENT_DATA otherwise). */
export function requireBothClasses(scored: ScoredCases, cases: 'cases' | 'validation cases'): void {
  let positives = 0;
  for (const y of scored.labels) positives += y;
  if (positives < 2 || scored.labels.length - positives < 2) {
    throw new PlatformError('EVAL_INSUFFICIENT_DATA', `Fitting needs at least two ${cases} of each class that pass the gate`, {
      n: scored.labels.length,
      positives,
    });
  }
}

async function scoreFor(
  deps: DeriveDependencies,
  request: { readonly modelDir: string; readonly dataset: string; readonly finding?: string; readonly declared?: RasterDeclaration },
  strata?: readonly string[],
) {
  const { data, declaration, bundle, scored } = await scoreRequest(deps, request, strata);
  requireBothClasses(scored, 'cases');
  return { data, bundle, scored, declaration: declaration ?? null };
}

function derivedVersion(version: string, tag: string): string {
  return version.includes('-') ? `${version}.${tag}` : `${version}-${tag}`;
}

function parentOf(bundle: ModelBundle): NonNullable<ModelManifest['parent']> {
  return { id: bundle.identity.id, version: bundle.identity.version, sha256: bundle.identity.sha256 };
}

async function writeBundle(deps: DeriveDependencies, sourceDir: string, out: string, bundle: ModelBundle, manifest: unknown): Promise<ModelManifest> {
  // Validate with the same schema the loader uses, so a derived bundle always loads.
  const parsed = parseModelManifest(manifest);
  await deps.output.writeDerivedBundle(sourceDir, out, bundle.manifest.model.file, JSON.stringify(parsed, null, 2) + '\n');
  return parsed;
}

export interface CalibrateRequest {
  readonly modelDir: string;
  readonly dataset: string;
  readonly method: CalibrationMethod;
  readonly out: string;
  readonly finding?: string;
  /** What the dataset's PNG/JPEG or MedMNIST images are, merged with its own sidecar declaration. */
  readonly declared?: RasterDeclaration;
}

export interface CalibrateOutcome {
  readonly manifest: ModelManifest;
  readonly fit: Readonly<Record<string, number | string>>;
}

function fitSummary(scored: ScoredCases, calibration: Calibration): { ece: number; brier: number; nll: number } {
  const p = Float64Array.from(scored.rawScores, (s) => calibrateScore(s, scored.activation, calibration));
  return { ece: expectedCalibrationError(p, scored.labels, ECE_BINS), brier: brierScore(p, scored.labels), nll: logLoss(p, scored.labels) };
}

/** What a fit records of the data it was made on. */
export interface FitData {
  readonly description: string;
  readonly sha256: string;
  readonly declaration: DatasetDeclaration | null;
  /** The command the fit is recorded as made by (default "vigil policy" / "vigil calibrate"). */
  readonly by?: string;
}

/**
 * Fits `method` on scored cases (the labelled cases the gate let through) and records the fit: the
 * data, the rule, ECE, Brier and NLL before (under `previous`) and after. Used by `vigil calibrate`
 * and `vigil model init`.
 */
export function fitCalibrationTo(
  scored: ScoredCases,
  method: CalibrationMethod,
  previous: Calibration,
  data: FitData,
  now: Date,
): { readonly calibration: Calibration; readonly fit: Readonly<Record<string, number | string>> } {
  const declaration = data.declaration;
  // Parametric maps work on the logit; isotonic on the raw score, as calibrateScore applies them.
  const x = method === 'isotonic' ? scored.rawScores : Float64Array.from(scored.rawScores, (s) => (scored.activation === 'logit' ? s : Math.log(s / (1 - s))));
  const fitted = fitCalibration(method, x, scored.labels);
  const before = fitSummary(scored, previous);
  const after = fitSummary(scored, fitted);
  const fit = {
    dataset: data.description,
    datasetSha256: data.sha256,
    declaration: declaration === null ? 'none' : `${JSON.stringify(declaration.values)} (${declaration.source})`,
    n: scored.labels.length,
    gateRejected: scored.rejected,
    method: method,
    previousMethod: previous.method,
    eceBins: ECE_BINS,
    eceBefore: round6(before.ece),
    eceAfter: round6(after.ece),
    brierBefore: round6(before.brier),
    brierAfter: round6(after.brier),
    nllBefore: round6(before.nll),
    nllAfter: round6(after.nll),
    fittedAt: now.toISOString(),
    rule:
      method === 'temperature'
        ? 'T maximising the likelihood (logistic regression without intercept on the logit, Newton)'
        : method === 'platt'
          ? 'a, b maximising the likelihood (logistic regression on the logit, Newton)'
          : 'pool-adjacent-violators on the raw score, linear between block ends',
  };
  return { calibration: { ...fitted, ...(fitted.method === 'none' ? {} : { fit }) }, fit };
}

/** `vigil calibrate`: fits temperature, Platt or isotonic calibration and writes a new bundle beside the untouched original. */
export async function calibrateModel(deps: DeriveDependencies, request: CalibrateRequest): Promise<CalibrateOutcome> {
  const { data, bundle, scored, declaration } = await scoreFor(deps, request);
  const { calibration, fit } = fitCalibrationTo(
    scored,
    request.method,
    bundle.manifest.calibration,
    { description: data.description, sha256: data.sha256, declaration },
    deps.clock.now(),
  );
  const manifest = await writeBundle(deps, request.modelDir, request.out, bundle, {
    ...bundle.manifest,
    version: derivedVersion(bundle.manifest.version, `cal.${request.method}`),
    calibration,
    parent: parentOf(bundle),
    metrics: { note: "Derived by vigil calibrate; the parent's metrics do not apply. Evaluate this bundle with vigil evaluate.", calibrationFit: fit },
  });
  return { manifest, fit };
}

export interface PolicyRequest {
  readonly modelDir: string;
  readonly dataset: string;
  readonly out: string;
  readonly costFalseNegative: number;
  readonly costFalsePositive: number;
  readonly prevalence: number;
  readonly minSensitivity?: number;
  /** Target coverage (1 − α) of the conformal abstain band: P(decided and wrong) ≤ α over all cases. */
  readonly coverage?: number;
  /**
   * Class-conditional targets instead: P(decided negative | finding) ≤ 1 − positive (missed findings)
   * and P(decided positive | no finding) ≤ 1 − negative (false alarms), each controlled on its own.
   */
  readonly classCoverage?: { readonly positive: number; readonly negative: number };
  /** Strata column for the Mondrian (per-stratum) band. */
  readonly mondrian?: string;
  /**
   * `cost-optimal` (the default): the observed threshold of minimum expected cost at `prevalence`;
   * `bayes`: C_FP / (C_FP + C_FN), right for a calibrated probability whatever the sample.
   */
  readonly thresholdRule?: 'cost-optimal' | 'bayes';
  /**
   * Instead of a conformal band: the narrowest band symmetric in logit space around the threshold
   * whose cases outside it (decided) have at most this error rate on the data (not a guarantee).
   */
  readonly maxErrorNotReferred?: number;
  readonly finding?: string;
  readonly declared?: RasterDeclaration;
}

export interface PolicyOutcome {
  readonly manifest: ModelManifest;
  readonly operatingPoint: OperatingPoint;
  readonly band: { readonly low: number; readonly high: number };
  readonly evidence: Readonly<Record<string, unknown>>;
}

/**
 * `vigil policy`: chooses the threshold from costs and prevalence (or the most specific one whose
 * sensitivity's lower bound meets a target), and the abstain band by split conformal prediction
 * (Mondrian per stratum when asked), on the bundle's calibrated probabilities; writes a new bundle.
 */
export async function choosePolicy(deps: DeriveDependencies, request: PolicyRequest): Promise<PolicyOutcome> {
  const { data, bundle, scored, declaration } = await scoreFor(deps, request, request.mondrian === undefined ? undefined : [request.mondrian]);
  const old = bundle.manifest.decisionPolicy[scored.finding]!;
  const { policy, operatingPoint, band, evidence } = fitPolicyTo(
    scored,
    request,
    { description: data.description, sha256: data.sha256, declaration },
    old.onGateWarn,
    deps.clock.now(),
  );
  const manifest = await writeBundle(deps, request.modelDir, request.out, bundle, {
    ...bundle.manifest,
    version: derivedVersion(bundle.manifest.version, 'policy'),
    decisionPolicy: { ...bundle.manifest.decisionPolicy, [scored.finding]: policy },
    parent: parentOf(bundle),
    metrics: { note: "Derived by vigil policy; the parent's metrics do not apply. Evaluate this bundle with vigil evaluate.", policyFit: evidence },
  });
  return { manifest, operatingPoint, band, evidence };
}

/** How a policy is fitted: `PolicyRequest` without the bundle and data it is fitted on. */
export type PolicyFit = Omit<PolicyRequest, 'modelDir' | 'dataset' | 'out' | 'finding' | 'declared'>;

/**
 * Chooses a finding's decision policy on scored cases (their `probabilities` calibrated as the policy
 * will see them): the threshold (minimum expected cost over the observed thresholds, the Bayes
 * threshold C_FP / (C_FP + C_FN), or the most specific one meeting a sensitivity target) and the
 * abstain band (split conformal, class-conditional or Mondrian; or the narrowest logit-symmetric band
 * whose decided cases' error rate meets a target). Used by `vigil policy` and `vigil model init`.
 */
export function fitPolicyTo(
  scored: ScoredCases,
  request: PolicyFit,
  data: FitData,
  onGateWarn: DecisionPolicy['onGateWarn'],
  now: Date,
): {
  readonly policy: DecisionPolicy;
  readonly operatingPoint: OperatingPoint;
  readonly band: { low: number; high: number };
  readonly evidence: Record<string, unknown>;
} {
  const declaration = data.declaration;
  const p = scored.probabilities;
  const y = scored.labels;
  const costs = { falseNegative: request.costFalseNegative, falsePositive: request.costFalsePositive };
  if (request.coverage !== undefined && request.classCoverage !== undefined) {
    throw new PlatformError('CLI_USAGE', 'Give either a coverage or class-conditional coverages, not both', {});
  }
  if (request.maxErrorNotReferred !== undefined && (request.coverage !== undefined || request.classCoverage !== undefined || request.mondrian !== undefined)) {
    throw new PlatformError('CLI_USAGE', 'An error-bounded abstain band replaces a conformal one: give one of them', {});
  }
  if (request.thresholdRule === 'bayes' && request.minSensitivity !== undefined) {
    throw new PlatformError('CLI_USAGE', 'The Bayes threshold follows from the costs alone: it takes no sensitivity target', {});
  }
  const banded = request.coverage !== undefined || request.classCoverage !== undefined;
  // With an abstain band, the threshold and the band are fitted on disjoint halves: the conformal
  // guarantee needs a non-conformity score (which depends on the threshold) fixed before the cases
  // it is calibrated on are seen.
  const halves = banded ? stratifiedHalves(y, POLICY_SPLIT_SEED) : undefined;
  const pick = <T extends Float64Array | Uint8Array>(a: T, idx: readonly number[] | undefined): T =>
    idx === undefined ? a : (a.filter((_, i) => idxSet(idx).has(i)) as T);
  const pT = pick(p, halves?.a);
  const yT = pick(y, halves?.a);
  let point: OperatingPoint;
  if (request.thresholdRule === 'bayes') point = bayesOperatingPoint(pT, yT, costs, request.prevalence);
  else if (request.minSensitivity === undefined) point = costOptimalOperatingPoint(pT, yT, costs, request.prevalence);
  else {
    const constrained = constrainedOperatingPoint(pT, yT, request.minSensitivity, costs, request.prevalence);
    if (constrained === undefined) {
      throw new PlatformError(
        'EVAL_FIT_FAILED',
        `No threshold reaches a sensitivity whose Wilson lower bound is >= ${request.minSensitivity} on these cases`,
        {},
      );
    }
    point = constrained;
  }
  // An observed probability is the threshold; +∞ ("never positive") becomes 1.
  const threshold = Math.min(1, point.threshold);
  // No band asked for: low = high = threshold, which refers nothing (decideFinding refers only when low < high).
  let band: { low: number; high: number } = { low: threshold, high: threshold };
  let conformal: Record<string, unknown> | undefined;
  let conformalRecord: DecisionPolicy['conformal'];
  if (banded) {
    const bIdx = halves?.b ?? [];
    const pB = pick(p, bIdx);
    const yB = pick(y, bIdx);
    const classCoverage = request.classCoverage;
    const fit = (probabilities: ArrayLike<number>, labels: ArrayLike<number>): { low: number; high: number; attainable: boolean } => {
      if (classCoverage === undefined) return splitConformalBand(probabilities, labels, threshold, 1 - request.coverage!);
      const b = classConditionalConformalBand(probabilities, labels, threshold, 1 - classCoverage.positive, 1 - classCoverage.negative);
      return { ...b, attainable: b.positive.attainable && b.negative.attainable };
    };
    const pooled = fit(pB, yB);
    const strataB = bIdx.map((i) => scored.strata.get(request.mondrian ?? '')?.[i] ?? MISSING_LEVEL_TEXT);
    const perStratum = request.mondrian === undefined ? undefined : mondrianBands(pB, yB, strataB, fit);
    const bands = perStratum === undefined ? [pooled] : [...perStratum.values()];
    // One band is stored; with Mondrian it is the union of the per-stratum bands, so each stratum's
    // guarantee still holds at the price of more referrals (the case's stratum is not known at prediction time).
    const union = { low: Math.min(...bands.map((b) => b.low)), high: Math.max(...bands.map((b) => b.high)) };
    // Rounded outward to 6 decimals, never inward (which would narrow the band and lose coverage); a
    // side of zero width stays exactly at the threshold, so a band of zero width still refers nothing.
    band = { low: union.low < threshold ? round6Down(union.low) : threshold, high: union.high > threshold ? round6Up(union.high) : threshold };
    const unattainable = bands.filter((b) => !b.attainable).length;
    conformal = {
      method: `${request.mondrian === undefined ? '' : `Mondrian by "${request.mondrian}", `}${classCoverage === undefined ? 'split conformal' : 'class-conditional (per label) split conformal'}`,
      split: `threshold fitted on ${halves?.a.length} cases, band calibrated on the other ${bIdx.length} (label-stratified halves, seed ${POLICY_SPLIT_SEED})`,
      ...(classCoverage === undefined ? { coverage: request.coverage } : { classCoverage }),
      nonconformity:
        classCoverage === undefined
          ? 'distance of logit(p) past logit(threshold) on the wrong side of the label; band = threshold ± q̂ in logit space'
          : 'distance of logit(p) past logit(threshold) on the wrong side of the label, quantiles per label: low = logit(threshold) − q̂(positives), high = logit(threshold) + q̂(negatives)',
      pooled: { ...pooled },
      ...(perStratum === undefined ? {} : { perStratum: Object.fromEntries([...perStratum].map(([k, b]) => [k, { ...b }])) }),
      unattainable,
    };
    conformalRecord = {
      ...(classCoverage === undefined
        ? { coverage: request.coverage! }
        : { classCoverage: { positive: classCoverage.positive, negative: classCoverage.negative } }),
      ...(request.mondrian === undefined ? {} : { mondrian: request.mondrian }),
      calibrationCases: bIdx.length,
    };
  }
  let errorBounded: ErrorBoundedBand | undefined;
  if (request.maxErrorNotReferred !== undefined) {
    errorBounded = errorBoundedBand(p, y, threshold, request.maxErrorNotReferred, BAND_STEP_LOGIT);
    if (errorBounded === undefined) {
      throw new PlatformError('EVAL_FIT_FAILED', `No abstain band leaves decided cases with an error rate of at most ${request.maxErrorNotReferred}`, {});
    }
    band = { low: errorBounded.low, high: errorBounded.high };
  }
  const inBand = Uint8Array.from(p, (v) => (v >= band.low && v <= band.high && band.low < band.high ? 0 : 1));
  const kept = confusionAt(p, y, threshold, inBand);
  const keptN = kept.tp + kept.fp + kept.tn + kept.fn;
  const bandRule =
    errorBounded === undefined
      ? undefined
      : `the narrowest band symmetric in logit space around logit(threshold), logit(threshold) ± w with w on a ${BAND_STEP_LOGIT} grid, such that the error rate of the cases outside the band is <= ${request.maxErrorNotReferred}; w = ${errorBounded.halfWidthLogit}, bounds rounded outward to 6 decimals`;
  const evidence = {
    dataset: data.description,
    datasetSha256: data.sha256,
    declaration: declaration === null ? 'none' : { ...declaration.values, source: declaration.source },
    n: y.length,
    gateRejected: scored.rejected,
    rule: point.rule,
    threshold,
    sensitivity: round6(point.sensitivity),
    specificity: round6(point.specificity),
    expectedCostPerCase: round6(point.expectedCost),
    abstainBand: band,
    ...(bandRule === undefined ? {} : { abstainBandRule: bandRule }),
    referRate: round6((y.length - keptN) / y.length),
    errorRateNotReferred: keptN === 0 ? null : round6((kept.fp + kept.fn) / keptN),
    ...(conformal === undefined ? {} : { conformal }),
    fittedAt: now.toISOString(),
  };
  const source = `${data.by ?? 'vigil policy'} on ${data.description} (sha256 ${data.sha256.slice(0, 12)}…): ${point.rule}${
    bandRule !== undefined
      ? `; abstain band: ${bandRule}`
      : conformal === undefined
        ? '; no abstain band'
        : `; abstain band by ${String(conformal.method)} at ${
            request.classCoverage === undefined
              ? `coverage ${request.coverage}`
              : `coverage ${request.classCoverage.positive} of cases with the finding, ${request.classCoverage.negative} of cases without`
          }`
  }`;
  const policy: DecisionPolicy = {
    threshold,
    abstainBand: band,
    costFalseNegative: request.costFalseNegative,
    costFalsePositive: request.costFalsePositive,
    prevalence: request.prevalence,
    onGateWarn,
    source,
    ...(conformalRecord === undefined ? {} : { conformal: conformalRecord }),
  };
  return { policy, operatingPoint: point, band, evidence };
}

/** Grid step of the error-bounded band's half-width, in logit units (models/pneumonia-demo/train.py: BAND_STEP_LOGIT). */
const BAND_STEP_LOGIT = 0.01;

const POLICY_SPLIT_SEED = 20231;
const idxCache = new WeakMap<readonly number[], Set<number>>();
function idxSet(idx: readonly number[]): Set<number> {
  let set = idxCache.get(idx);
  if (set === undefined) {
    set = new Set(idx);
    idxCache.set(idx, set);
  }
  return set;
}
const round6Down = (x: number): number => Math.floor(x * 1e6) / 1e6;
const round6Up = (x: number): number => Math.ceil(x * 1e6) / 1e6;

export interface ReferenceRequest {
  readonly modelDir: string;
  /** The model's validation data (not its training data): what the evaluated sets are compared with. */
  readonly dataset: string;
  readonly out: string;
  readonly finding?: string;
  readonly declared?: RasterDeclaration;
}

export interface ReferenceOutcome {
  readonly manifest: ModelManifest;
  readonly images: number;
  readonly features: number;
}

/** Fewer readable images than this make quantiles at 5 % steps meaningless. */
const MIN_REFERENCE_IMAGES = 40;

/**
 * `vigil model reference`: runs the bundle over its validation data exactly as `vigil evaluate` does
 * (preprocessing, gate, model, calibration, policy) and writes the bundle again with its
 * `referenceDistribution`: quantile sketches of every image variable and of the calibrated
 * probability, and the gate's and policy's rates. Id, version and model are unchanged — the model's
 * behaviour is — so the bundle is the same model version with its reference added (no `parent`).
 */
export async function computeReference(deps: DeriveDependencies, request: ReferenceRequest): Promise<ReferenceOutcome> {
  const { data, declaration, bundle, scored } = await scoreRequest(deps, request);
  const sample = shiftSampleOf(scored, bundle);
  if (sample.gate.n < MIN_REFERENCE_IMAGES) {
    throw new PlatformError('EVAL_INSUFFICIENT_DATA', `A reference needs at least ${MIN_REFERENCE_IMAGES} readable images`, { n: sample.gate.n });
  }
  const referenceDistribution = buildReferenceDistribution(sample, {
    dataset: data.description,
    sha256: data.sha256,
    declaration: declaration === undefined ? 'none' : `${JSON.stringify(declaration.values)} (${declaration.source})`,
    computedAt: deps.clock.now().toISOString(),
    computedBy: `vigil ${deps.vigilVersion} model reference`,
  });
  const manifest = await writeBundle(deps, request.modelDir, request.out, bundle, { ...bundle.manifest, referenceDistribution });
  return { manifest, images: sample.gate.n, features: Object.keys(referenceDistribution.features).length };
}
