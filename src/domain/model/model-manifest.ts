import { z } from 'zod';
import { authoredTextSchema } from '../human-text.js';

/**
 * The model bundle manifest, `vigil-model.json`, beside `model.onnx`. Modelled on MONAI's bundle
 * `metadata.json` (version, intended use, per-input dtype/shape/value range/channels) and extended
 * with what a clinical deployment needs: calibration, decision policy, gate thresholds, reference
 * statistics for out-of-distribution checks, and the provenance of the training data.
 *
 * Every threshold in here carries a `source` string saying where it came from.
 */

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const probability = finite.refine((v) => v >= 0 && v <= 1, 'must be within [0, 1]');
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a lowercase hex SHA-256');
const nonEmpty = z.string().min(1);
// What people read (the name and description in lists, reports and evidence packs; intended use and
// contraindications on the model card and the dashboard; finding labels in results): the human-text
// rule, as written (domain/human-text.ts).
const title = authoredTextSchema({ maxChars: 200 });
const prose = authoredTextSchema({ maxChars: 4000, multiline: true });
const line = authoredTextSchema({ maxChars: 500 });
const label = authoredTextSchema({ maxChars: 100 });

export const PHOTOMETRIC_INTERPRETATIONS = ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'PALETTE COLOR'] as const;

/** What an unknown value is for a check the manifest restricts: never a pass. */
const unknownValueVerdict = z.enum(['warn', 'reject']);

/** Whole years, inclusive. */
const ageRange = z
  .strictObject({ min: z.number().int().min(0).max(130), max: z.number().int().min(0).max(130) })
  .refine((r) => r.min <= r.max, { message: 'min must be <= max', path: ['min'] });

const intendedUse = z.strictObject({
  summary: prose,
  /** DICOM Modality (0008,0060) values the model is for. */
  modalities: z.array(nonEmpty).min(1),
  /** DICOM Body Part Examined (0018,0015) values, upper case. */
  bodyParts: z.array(nonEmpty).min(1),
  /** DICOM View Position (0018,5101) values; empty means any. */
  views: z.array(nonEmpty),
  population: prose,
  /** Contraindications: who and what the model is not for, in words a clinician reads. */
  notFor: z.array(line),
  photometricInterpretations: z.array(z.enum(PHOTOMETRIC_INTERPRETATIONS)).min(1),
  minRows: z.number().int().positive(),
  minColumns: z.number().int().positive(),
  minBitsStored: z.number().int().min(1).max(32),
  /**
   * What the gate says when an input does not tell a value a restricting check needs (a PNG from a
   * camera has no Modality): `warn` (the default: the case is referred when the decision policy says
   * `onGateWarn: refer`) or `reject`. Optional since unknown values are graded per check
   * (`whenUnknown`); `pass` is still read, as `warn`: a check the gate could not make is never a pass.
   */
  whenUndeclared: z.enum(['pass', 'warn', 'reject']).optional(),
  /**
   * Per check, what an unknown value is when the manifest restricts it: `warn` or `reject`. Each
   * defaults to `whenUndeclared` (patient age: `reject` when `requireKnownAge` is true). A check the
   * manifest does not restrict (`views: []`, no `patientAgeYears`) needs no value and is reported as
   * not required.
   */
  whenUnknown: z
    .strictObject({
      modality: unknownValueVerdict.optional(),
      bodyPart: unknownValueVerdict.optional(),
      view: unknownValueVerdict.optional(),
      patientAge: unknownValueVerdict.optional(),
    })
    .optional(),
  /**
   * Ages (whole years, inclusive) the model is for. Vigil derives the age at the door, before
   * de-identification, from Patient's Age or the birth and examination dates (capped at 90; see
   * domain/deidentification/patient-age.ts); an image whose age is known and outside is rejected.
   */
  patientAgeYears: ageRange.optional(),
  /** Older spelling of `whenUnknown.patientAge: "reject"` (true); read when `whenUnknown.patientAge` is absent. */
  requireKnownAge: z.boolean().optional(),
});

const inputSpec = z.strictObject({
  name: nonEmpty,
  dtype: z.literal('float32'),
  /** NCHW; -1 marks the dynamic batch dimension. */
  shape: z.tuple([z.literal(-1), z.number().int().positive(), z.number().int().positive(), z.number().int().positive()]),
  layout: z.literal('NCHW'),
  channels: z.array(z.enum(['grayscale', 'red', 'green', 'blue'])).min(1),
  /** Range of the tensor values the model was trained on, after preprocessing. */
  valueRange: z.tuple([finite, finite]),
});

const preprocessingStep = z.discriminatedUnion('op', [
  /** PS3.3 C.11.1: apply Rescale Slope/Intercept (modality LUT) to stored values. */
  z.strictObject({ op: z.literal('modality_lut') }),
  /**
   * PS3.3 C.11.2 VOI LUT, mapping to [0, 1]. `dicom_or_percentile` uses the file's first window when
   * present, otherwise the given percentiles of the frame; `percentile` always uses the percentiles.
   */
  z.strictObject({
    op: z.literal('voi_window'),
    mode: z.enum(['dicom_or_percentile', 'percentile']),
    percentiles: z.tuple([probability, probability]),
  }),
  /** MONOCHROME1 shows minimum values as white; invert so that high means bright for the model. */
  z.strictObject({ op: z.literal('invert_monochrome1') }),
  /** RGB to one channel with the given weights (ITU-R BT.601 luma by default). */
  z.strictObject({ op: z.literal('to_grayscale'), weights: z.tuple([finite, finite, finite]) }),
  z.strictObject({
    op: z.literal('resize'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    filter: z.enum(['area', 'bilinear', 'nearest']),
  }),
  z.strictObject({ op: z.literal('normalize'), mean: z.array(finite).min(1), std: z.array(finite.refine((v) => v > 0, 'must be > 0')).min(1) }),
]);

const finding = z.strictObject({
  index: z.number().int().min(0),
  label: label,
  /** Optional coded concept, e.g. SNOMED CT, for results sent back as SR/FHIR. */
  code: z.strictObject({ system: nonEmpty, code: nonEmpty, display: line }).optional(),
});

const outputSpec = z.strictObject({
  name: nonEmpty,
  /** `logit`: raw score, calibration maps it to a probability; `probability`: already in [0, 1]. */
  activation: z.enum(['logit', 'probability']),
  findings: z.array(finding).min(1),
});

/**
 * A learned representation the model also outputs, for production monitoring's multivariate drift
 * (docs/monitoring.md): the ONNX output `output`, float32 [N, dimension] (e.g. the pooled features
 * before the classification head). Not a finding: it is never calibrated or decided.
 */
const embeddingSpec = z.strictObject({
  output: nonEmpty,
  dimension: z.number().int().min(1).max(4096),
});

const calibration = z.discriminatedUnion('method', [
  z.strictObject({ method: z.literal('none') }),
  /** Guo et al. 2017: p = sigmoid(logit / T). */
  z.strictObject({
    method: z.literal('temperature'),
    temperature: finite.refine((v) => v > 0, 'must be > 0'),
    fit: z.record(z.string(), z.unknown()).optional(),
  }),
  /** Platt 1999: p = sigmoid(a * logit + b). */
  z.strictObject({ method: z.literal('platt'), a: finite, b: finite, fit: z.record(z.string(), z.unknown()).optional() }),
  /** Zadrozny & Elkan 2002: non-decreasing step function of the score, interpolated linearly between knots. */
  z.strictObject({
    method: z.literal('isotonic'),
    x: z.array(finite).min(2),
    y: z.array(probability).min(2),
    fit: z.record(z.string(), z.unknown()).optional(),
  }),
]);

const decisionPolicy = z
  .strictObject({
    /** Calibrated probability at or above which the decision is `positive`. */
    threshold: probability,
    /** Calibrated probabilities inside [low, high] are referred to a human. low <= threshold <= high. */
    abstainBand: z.strictObject({ low: probability, high: probability }),
    costFalseNegative: finite.refine((v) => v >= 0, 'must be >= 0'),
    costFalsePositive: finite.refine((v) => v >= 0, 'must be >= 0'),
    /** Prevalence of the finding the threshold was chosen for. */
    prevalence: probability,
    /** `refer` sends every case the gate warned about to a human; `decide` decides it anyway. */
    onGateWarn: z.enum(['refer', 'decide']),
    source: nonEmpty,
    /**
     * What the abstain band promises, when it was fitted by split conformal prediction (`vigil
     * policy --coverage`): `coverage` 1 − α bounds P(decided and wrong) by α over all cases;
     * `classCoverage` bounds it per label (missed findings among cases with the finding, false alarms
     * among cases without); `mondrian` names the stratum column within each of whose strata the
     * bound holds. `vigil evaluate` checks the achieved rates against it.
     */
    conformal: z
      .strictObject({
        coverage: probability.optional(),
        classCoverage: z.strictObject({ positive: probability, negative: probability }).optional(),
        mondrian: nonEmpty.optional(),
        calibrationCases: z.number().int().min(0),
      })
      .refine((c) => c.coverage !== undefined || c.classCoverage !== undefined, { message: 'needs coverage or classCoverage' })
      .optional(),
  })
  .refine((p) => p.abstainBand.low <= p.threshold && p.threshold <= p.abstainBand.high, {
    message: 'abstainBand must contain the threshold (low <= threshold <= high)',
    path: ['abstainBand'],
  });

/** A lower-is-worse or higher-is-worse bound pair; `source` says how it was chosen. */
const bound = z.strictObject({ warn: finite, reject: finite, source: nonEmpty });

const quality = z.strictObject({
  /** Fraction of analysis pixels at the ends of the window (0 or 1); higher is worse. */
  saturatedFraction: bound,
  /** p99 - p1 of the analysis image in [0, 1]; lower is worse. */
  dynamicRange: bound,
  /** Variance of the 4-neighbour Laplacian of the analysis image; lower is blurrier. */
  laplacianVariance: bound,
  /** Standard deviation at or below which the image is constant (empty) and carries nothing to judge. */
  constantStd: finite.refine((v) => v >= 0, 'must be >= 0'),
});

const referenceStatistics = z
  .strictObject({
    /** Feature names, in order; see domain/quality/image-features.ts for each definition. */
    features: z.array(nonEmpty).min(1),
    mean: z.array(finite),
    /** Inverse of the (regularised) covariance, row-major square matrix. */
    precision: z.array(z.array(finite)),
    /** Mahalanobis distance thresholds. */
    distance: bound,
    n: z.number().int().positive(),
  })
  .refine((r) => r.mean.length === r.features.length, { message: 'mean must have one value per feature', path: ['mean'] })
  .refine((r) => r.precision.length === r.features.length && r.precision.every((row) => row.length === r.features.length), {
    message: 'precision must be a square matrix with one row per feature',
    path: ['precision'],
  });

/** A bounded quantile sketch of one variable (domain/drift/binned-shift-test.ts). */
const distributionSketch = z
  .strictObject({
    n: z.number().int().positive(),
    /** The variable's quantile at each of `quantileLevels`, non-decreasing. */
    quantiles: z.array(finite).min(1),
    /** Reference values per bin cut by the distinct quantiles: one more entry than distinct quantiles. */
    counts: z.array(z.number().int().min(0)),
  })
  .refine((s) => s.quantiles.every((q, i) => i === 0 || q >= s.quantiles[i - 1]!), { message: 'quantiles must be non-decreasing', path: ['quantiles'] })
  .refine((s) => s.counts.length === new Set(s.quantiles).size + 1, {
    message: 'counts must have one entry per bin (distinct quantiles + 1)',
    path: ['counts'],
  })
  .refine((s) => s.counts.reduce((a, b) => a + b, 0) === s.n, { message: 'counts must add up to n', path: ['counts'] });

/**
 * What the model version's inputs and outputs looked like on its validation data, for the dataset
 * shift comparison of `vigil evaluate` (written by `vigil model reference`; docs/evaluation.md).
 */
const referenceDistribution = z
  .strictObject({
    /** The data it was computed on: description, SHA-256 (file and selection), declaration, when and by what. */
    source: z.strictObject({
      dataset: nonEmpty,
      sha256: sha256Hex,
      declaration: nonEmpty,
      computedAt: nonEmpty,
      computedBy: nonEmpty,
    }),
    /** The quantile levels of every sketch, strictly increasing within (0, 1). */
    quantileLevels: z
      .array(z.number().gt(0).lt(1))
      .min(1)
      .max(999)
      .refine((l) => l.every((v, i) => i === 0 || v > l[i - 1]!), 'must be strictly increasing'),
    /** One sketch per image feature (domain/drift/shift-features.ts), over every readable image. */
    features: z.record(nonEmpty, distributionSketch),
    /** The gate on those images: how many were read, rejected, warned about. */
    gate: z.strictObject({ n: z.number().int().positive(), rejected: z.number().int().min(0), warned: z.number().int().min(0) }),
    /**
     * The model's outputs on the images the gate let through, under the calibration and policy named by
     * `computedUnder` (a canonical text of them): compared only while the bundle still has that
     * calibration and policy (a bundle derived by vigil calibrate or vigil policy does not).
     */
    outputs: z
      .strictObject({
        finding: nonEmpty,
        computedUnder: nonEmpty,
        probability: distributionSketch,
        n: z.number().int().positive(),
        positive: z.number().int().min(0),
        referred: z.number().int().min(0),
      })
      .optional(),
  })
  .refine((r) => Object.values(r.features).every((s) => s.quantiles.length === r.quantileLevels.length), {
    message: 'every sketch must have one quantile per level',
    path: ['features'],
  });

const trainingData = z.strictObject({
  dataset: nonEmpty,
  licence: nonEmpty,
  /** SHA-256 of the dataset file the model was trained on. */
  sha256: sha256Hex,
  splits: z.record(z.string(), z.number().int().min(0)),
  citation: nonEmpty,
});

const modelFile = z.strictObject({
  file: z.string().regex(/^[A-Za-z0-9._-]+\.onnx$/, 'must be a plain file name ending in .onnx'),
  sha256: sha256Hex,
  opset: z.number().int().positive(),
  framework: nonEmpty,
  /** Library versions used to produce the bundle, for reproducibility. */
  libraryVersions: z.record(z.string(), z.string()),
});

export const modelManifestSchema = z
  .strictObject({
    schemaVersion: z.literal(1),
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
    version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'must be a semantic version'),
    name: title,
    description: prose,
    intendedUse: intendedUse,
    input: inputSpec,
    preprocessing: z.array(preprocessingStep).min(1),
    outputs: z.array(outputSpec).min(1),
    /** Optional: the output production monitoring watches as a learned representation of each image. */
    embedding: embeddingSpec.optional(),
    calibration: calibration,
    /** One policy per finding label. */
    decisionPolicy: z.record(z.string(), decisionPolicy),
    quality: quality,
    referenceStatistics: referenceStatistics,
    /** Optional: the validation data's distribution, for the dataset shift comparison of vigil evaluate. */
    referenceDistribution: referenceDistribution.optional(),
    trainingData: trainingData,
    model: modelFile,
    /** Free-form evaluation results recorded when the bundle was built (see MODEL_CARD.md). */
    metrics: z.record(z.string(), z.unknown()).optional(),
    /** Set by `vigil calibrate` / `vigil policy` when this bundle was derived from another. */
    parent: z.strictObject({ id: nonEmpty, version: nonEmpty, sha256: sha256Hex }).optional(),
  })
  .superRefine((m, ctx) => {
    const labels = m.outputs.flatMap((o) => o.findings.map((f) => f.label));
    for (const label of labels) {
      if (!(label in m.decisionPolicy)) {
        ctx.addIssue({ code: 'custom', path: ['decisionPolicy', label], message: `missing policy for finding "${label}"` });
      }
    }
    for (const key of Object.keys(m.decisionPolicy)) {
      if (!labels.includes(key)) ctx.addIssue({ code: 'custom', path: ['decisionPolicy', key], message: `no output declares finding "${key}"` });
    }
    if (m.calibration.method === 'isotonic' && m.calibration.x.length !== m.calibration.y.length) {
      ctx.addIssue({ code: 'custom', path: ['calibration', 'y'], message: 'x and y must have the same length' });
    }
    if (m.embedding !== undefined && m.outputs.some((o) => o.name === m.embedding!.output)) {
      ctx.addIssue({ code: 'custom', path: ['embedding', 'output'], message: 'must not be an output that carries findings' });
    }
    const channels = m.input.shape[1];
    if (m.input.channels.length !== channels) {
      ctx.addIssue({ code: 'custom', path: ['input', 'channels'], message: `must list ${channels} channel(s) to match input.shape[1]` });
    }
  });

export type ModelManifest = z.infer<typeof modelManifestSchema>;
export type PreprocessingStep = ModelManifest['preprocessing'][number];
export type Calibration = ModelManifest['calibration'];
export type ReferenceDistribution = NonNullable<ModelManifest['referenceDistribution']>;
export type DecisionPolicy = ModelManifest['decisionPolicy'][string];
export type QualityThresholds = ModelManifest['quality'];
export type ReferenceStatistics = ModelManifest['referenceStatistics'];
export type IntendedUse = ModelManifest['intendedUse'];
export type EmbeddingSpec = NonNullable<ModelManifest['embedding']>;

/** The intended-use attributes whose value an input may not tell. */
export type UnknownValueCheck = 'modality' | 'bodyPart' | 'view' | 'patientAge';

/**
 * What the gate says, per check, when a value the manifest restricts is unknown: the check's own
 * `whenUnknown` entry, else the manifest-wide `whenUndeclared` (`pass` read as `warn`: an unchecked
 * restriction is never a pass), else `warn`; for the patient's age, `requireKnownAge: true` means `reject`.
 *
 * @example unknownValueVerdicts({ ...use, whenUndeclared: 'warn', whenUnknown: { patientAge: 'reject' } }).patientAge // 'reject'
 */
export function unknownValueVerdicts(use: IntendedUse): Readonly<Record<UnknownValueCheck, 'warn' | 'reject'>> {
  const base = use.whenUndeclared === 'reject' ? 'reject' : 'warn';
  const own = use.whenUnknown ?? {};
  return {
    modality: own.modality ?? base,
    bodyPart: own.bodyPart ?? base,
    view: own.view ?? base,
    patientAge: own.patientAge ?? (use.requireKnownAge === true ? 'reject' : base),
  };
}
