import { calibrateScore } from '../domain/calibration/calibrate.js';
import { buildReferenceDistribution } from '../domain/drift/dataset-shift.js';
import { parseBoundedJson } from '../domain/bounded-json.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { ImageFrame, RasterDeclaration } from '../domain/image/image-frame.js';
import { identifyModel, parseModelManifest, type ModelBundle } from '../domain/model/model-bundle.js';
import {
  answersFromMonaiMetadata,
  draftManifest,
  mergeAnswers,
  parseModelInitAnswers,
  type ManifestDraft,
  type ModelInitAnswers,
} from '../domain/model/model-init.js';
import type { Calibration, DecisionPolicy, ModelManifest } from '../domain/model/model-manifest.js';
import { preprocessFrame } from '../domain/preprocessing/preprocess.js';
import { computeImageFeatures, type ImageFeatures } from '../domain/quality/image-features.js';
import { CONSTANT_STD, deriveQualityThresholds, deriveReferenceStatistics, MIN_REFERENCE_IMAGES, round6 } from '../domain/quality/reference-statistics.js';
import type { EvaluationSummary } from '../domain/registry/model-card.js';
import { renderModelCard } from '../domain/registry/model-card.js';
import type { ModelVersion } from '../domain/registry/model-version.js';
import type { Hasher } from '../ports/hasher.js';
import type { ModelRunner } from '../ports/model-runner.js';
import { fitCalibrationTo, fitPolicyTo, requireBothClasses, type DeriveDependencies, type FitData } from './derive-bundle.js';
import { InferenceChain } from './inference-chain.js';
import { MONITORING_REFERENCE_FILE, monitoringReferenceFileOf } from '../domain/monitoring/monitoring-reference-file.js';
import { embeddingReferenceOf, monitoringReferenceOf, reviewReferenceSectionOf } from './monitoring-reference.js';
import { resolveDeclaration, scoreDataset, shiftSampleOf, type ScoredCases } from './score-dataset.js';

/** Fewest validation images a monitoring reference is written from (the file's own minimum). */
const MIN_MONITORING_REFERENCE = 50;

export interface InitModelDependencies extends Omit<DeriveDependencies, 'openModel'> {
  readonly hasher: Hasher;
  readonly runner: ModelRunner;
  readonly readModelFile: (path: string) => Promise<Uint8Array>;
  /** `vigil evaluate` of the written bundle on the validation data, its report in `out`. */
  readonly evaluate: (request: {
    readonly modelDir: string;
    readonly dataset: string;
    readonly out: string;
    readonly finding: string;
    readonly declared?: RasterDeclaration;
  }) => Promise<unknown>;
  /** The evaluation reports in a bundle folder, summarised for its card. */
  readonly readEvaluations: (directory: string) => Promise<readonly EvaluationSummary[]>;
  /** Registers the written bundle as an original version (no parent). */
  readonly register: (directory: string, lineage: { readonly derivedBy: string; readonly validationDataSha256: string }) => Promise<ModelVersion>;
}

export interface InitModelRequest {
  readonly onnx: string;
  /** Labelled data for calibration, policy and evaluation. */
  readonly validation: string;
  /** Images the gate's statistics are derived from (default: the validation data), e.g. the training split. */
  readonly reference?: string;
  readonly out: string;
  /** A JSON answers file (docs/model-bundle.md, "Bring your own model"). */
  readonly answersFile?: string;
  /** A MONAI bundle's metadata.json, read first: the answers file and the flags override it. */
  readonly monaiMetadataFile?: string;
  /** Answers given as flags: they override both files. */
  readonly flags?: ModelInitAnswers;
  /** What the datasets' PNG/JPEG or MedMNIST images are (`--modality` …). */
  readonly declared?: RasterDeclaration;
}

export interface InitModelOutcome {
  readonly manifest: ModelManifest;
  readonly version: ModelVersion;
  readonly reference: { readonly description: string; readonly images: number; readonly skipped: Readonly<Record<string, number>> };
  readonly validation: { readonly description: string; readonly cases: number; readonly gateRejected: number };
  readonly reports: readonly string[];
}

/**
 * `vigil model init`: builds a complete bundle for an ONNX network with Vigil's own code. Reads the
 * network's inputs and outputs, drafts the manifest from the answers, derives the gate's quality
 * thresholds and reference statistics from the reference images (the gate's own preprocessing and
 * features), scores the validation data through the one inference chain, fits the calibration and
 * chooses each finding's policy (as `vigil calibrate` and `vigil policy` do), records the validation
 * data's reference distribution (as `vigil model reference`), writes the bundle, evaluates it (as
 * `vigil evaluate`), writes its model card, and registers it.
 */
export async function initModel(deps: InitModelDependencies, request: InitModelRequest): Promise<InitModelOutcome> {
  // Before anything is read or scored: an --out that cannot be the new bundle's folder is said now.
  await deps.output.checkOutputFolder(request.out, { empty: true });
  const answers = mergeAnswers(
    request.monaiMetadataFile === undefined ? {} : answersFromMonaiMetadata(await readJson(deps, request.monaiMetadataFile, 'MONAI metadata.json file')),
    request.answersFile === undefined ? {} : parseModelInitAnswers(await readJson(deps, request.answersFile, 'answers file'), 'The answers file'),
    request.flags ?? {},
  );
  const modelBytes = await deps.readModelFile(request.onnx);
  const signature = await deps.runner.describeModel(modelBytes);
  const modelSha256 = deps.hasher.sha256Hex(modelBytes);
  const draft = draftManifest(answers, signature, { modelSha256, ...(request.declared === undefined ? {} : { declared: request.declared }) });

  // The gate's statistics, from the reference images as the gate will see them.
  const referenceSpec = request.reference ?? request.validation;
  const reference = await measureReference(deps, referenceSpec, draft);
  const of = `the ${reference.features.length} images of ${reference.description}`;
  const quality = deriveQualityThresholds(reference.features, of);
  const referenceStatistics = deriveReferenceStatistics(reference.features, of);
  const costs = answers.costs!;
  const prevalence = answers.policy?.prevalence ?? round6(reference.positives / reference.labelled);
  const onGateWarn = answers.policy?.onGateWarn ?? 'refer';
  const labels = draft.outputs.flatMap((o) => o.findings.map((f) => f.label));
  const provisionalPolicy: DecisionPolicy = {
    threshold: 0.5,
    abstainBand: { low: 0.5, high: 0.5 },
    ...costs,
    prevalence,
    onGateWarn,
    source: 'provisional (vigil model init replaces it)',
  };
  const trainingData = {
    dataset: answers.trainingData?.dataset ?? reference.description,
    licence: answers.trainingData?.licence ?? 'not stated',
    sha256: answers.trainingData?.sha256 ?? reference.sha256,
    splits: { reference: reference.features.length },
    citation: answers.trainingData?.citation ?? 'not stated',
  };
  const base = { ...draft, quality, referenceStatistics, trainingData };
  const uncalibrated = bundleOf(
    { ...base, calibration: { method: 'none' }, decisionPolicy: Object.fromEntries(labels.map((l) => [l, provisionalPolicy])) },
    modelBytes,
  );
  const session = await deps.runner.createSession(uncalibrated);
  try {
    // Calibration on the first finding (a manifest holds one calibration map), then each finding's policy.
    const data = await deps.data.openDataset(request.validation, {});
    const declaration = resolveDeclaration(data.declaration, request.declared);
    const fitData: FitData = { description: data.description, sha256: data.sha256, declaration: declaration ?? null, by: 'vigil model init' };
    const score = async (bundle: ModelBundle, finding: string): Promise<ScoredCases> => {
      const dataset = await deps.data.openDataset(request.validation, {});
      return scoreDataset(
        {
          inputs: deps.inputs,
          chain: new InferenceChain(bundle, session),
          batchSize: deps.batchSize,
          ...(declaration === undefined ? {} : { declared: declaration.values }),
        },
        dataset,
        finding,
      );
    };
    const first = await score(uncalibrated, labels[0]!);
    requireBothClasses(first, 'validation cases');
    const now = deps.clock.now();
    const { calibration } = fitCalibrationTo(first, answers.calibration ?? 'temperature', { method: 'none' }, fitData, now);
    const decisionPolicy: Record<string, DecisionPolicy> = {};
    const policyFits: Record<string, unknown> = {};
    for (const label of labels) {
      const scored = label === labels[0] ? first : await score(uncalibrated, label);
      requireBothClasses(scored, 'validation cases');
      const calibrated = { ...scored, probabilities: recalibrate(scored, calibration) };
      const fit = fitPolicyTo(
        calibrated,
        {
          costFalseNegative: costs.costFalseNegative,
          costFalsePositive: costs.costFalsePositive,
          prevalence,
          thresholdRule: answers.policy?.threshold ?? 'bayes',
          ...(answers.policy?.maxErrorNotReferred === undefined ? {} : { maxErrorNotReferred: answers.policy.maxErrorNotReferred }),
          ...(answers.policy?.coverage === undefined ? {} : { coverage: answers.policy.coverage }),
        },
        fitData,
        onGateWarn,
        now,
      );
      decisionPolicy[label] = fit.policy;
      policyFits[label] = fit.evidence;
    }
    // The validation data's reference distribution under the final calibration and policy (vigil model reference).
    const fitted = bundleOf({ ...base, calibration, decisionPolicy }, modelBytes);
    const final = await score(fitted, labels[0]!);
    const sample = shiftSampleOf(final, fitted);
    const referenceDistribution =
      sample.gate.n < MIN_REFERENCE_IMAGES
        ? undefined
        : buildReferenceDistribution(sample, {
            dataset: data.description,
            sha256: data.sha256,
            declaration: declaration === undefined ? 'none' : `${JSON.stringify(declaration.values)} (${declaration.source})`,
            computedAt: now.toISOString(),
            computedBy: `vigil ${deps.vigilVersion} model init`,
          });
    const manifest = parseModelManifest({
      ...fitted.manifest,
      ...(referenceDistribution === undefined ? {} : { referenceDistribution }),
      metrics: {
        note: 'Written by vigil model init. Calibration and policy were fitted on the validation data, and the reports in reports/ evaluate on the same data: optimistic. Evaluate on held-out data with vigil evaluate.',
        reference: { dataset: reference.description, sha256: reference.sha256, images: reference.features.length, skipped: reference.skipped },
        policyFit: policyFits,
      },
    });
    await deps.output.writeNewBundle(request.out, manifest.model.file, modelBytes, JSON.stringify(manifest, null, 2) + '\n');
    // The monitors' reference (docs/monitoring.md, "In the server"): the validation images' per-image
    // signal values under the final calibration and policy, so a deployment of this version is monitored
    // from its first study instead of after a production baseline.
    const monitoring = monitoringReferenceOf(final, decisionPolicy[labels[0]!]!);
    if (monitoring !== undefined && final.total >= MIN_MONITORING_REFERENCE) {
      await deps.output.writeFiles(request.out, {
        [MONITORING_REFERENCE_FILE]:
          JSON.stringify({
            ...monitoringReferenceFileOf(monitoring, `${data.description} (vigil model init)`),
            ...embeddingReferenceOf(final, manifest),
            ...reviewReferenceSectionOf(final, monitoring),
          }) + '\n',
      });
    }
    const reports: string[] = [];
    for (const label of labels) {
      const name = labels.length === 1 ? 'validation' : `validation-${label.replace(/[^A-Za-z0-9._-]/g, '_')}`;
      await deps.evaluate({
        modelDir: request.out,
        dataset: request.validation,
        out: `${request.out}/reports/${name}`,
        finding: label,
        ...(request.declared === undefined ? {} : { declared: request.declared }),
      });
      reports.push(name);
    }
    await deps.output.writeFiles(request.out, { 'MODEL_CARD.md': renderModelCard(manifest, null, await deps.readEvaluations(request.out)) });
    const version = await deps.register(request.out, { derivedBy: 'vigil model init', validationDataSha256: data.sha256 });
    return {
      manifest,
      version,
      reference: { description: reference.description, images: reference.features.length, skipped: reference.skipped },
      validation: { description: data.description, cases: first.labels.length, gateRejected: first.rejected },
      reports,
    };
  } finally {
    await session.close();
  }
}

/**
 * What an answers file or a MONAI metadata.json may be: a few kB in practice (MONAI's model-zoo
 * metadata.json files are 2 to 10 kB, nested about five levels); bounded so that a file of megabytes
 * or a 10,000-deep nesting is refused, coded, before it is read or parsed.
 */
export const ANSWERS_FILE_LIMITS = { maxBytes: 64 * 1024, maxDepth: 32 } as const;

async function readJson(deps: InitModelDependencies, path: string, what: string): Promise<unknown> {
  const { text } = await deps.data.readText(path, { maxBytes: ANSWERS_FILE_LIMITS.maxBytes, what });
  const parsed = parseBoundedJson(text, { maxDepth: ANSWERS_FILE_LIMITS.maxDepth });
  if (!parsed.ok) throw new PlatformError('MODEL_INIT_ANSWERS_INVALID', `The ${what} ${parsed.problem}`, { ...ANSWERS_FILE_LIMITS });
  return parsed.value;
}

function bundleOf(manifest: ModelManifest, modelBytes: Uint8Array): ModelBundle {
  const parsed = parseModelManifest(manifest);
  return { manifest: parsed, modelBytes, identity: identifyModel(parsed) };
}

function recalibrate(scored: ScoredCases, calibration: Calibration): Float64Array {
  return Float64Array.from(scored.rawScores, (s) => calibrateScore(s, scored.activation, calibration));
}

/**
 * The features of every reference image the draft's preprocessing can read, as the gate measures them
 * (intended-use metadata aside: the statistics describe pixels). Unreadable images and constant ones
 * (std at most one grey level, which the gate rejects) are counted by reason and left out.
 */
async function measureReference(
  deps: InitModelDependencies,
  spec: string,
  draft: ManifestDraft,
): Promise<{ description: string; sha256: string; features: ImageFeatures[]; skipped: Record<string, number>; positives: number; labelled: number }> {
  const dataset = await deps.data.openDataset(spec, {});
  const features: ImageFeatures[] = [];
  const skipped: Record<string, number> = {};
  let positives = 0;
  let labelled = 0;
  for await (const c of dataset.cases()) {
    labelled++;
    positives += c.label;
    let frame: ImageFrame;
    try {
      frame = c.image.kind === 'frame' ? c.image.frame : await (await deps.inputs.open(c.image.bytes)).decodeFrame(0);
      const prepared = preprocessFrame(frame, draft);
      const f = computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
      if (f.std <= CONSTANT_STD) skipped.constant_image = (skipped.constant_image ?? 0) + 1;
      else features.push(f);
    } catch (cause) {
      const code = toPlatformError(cause).code;
      skipped[code] = (skipped[code] ?? 0) + 1;
    }
  }
  if (features.length < MIN_REFERENCE_IMAGES) {
    throw new PlatformError(
      'MODEL_INIT_NO_REFERENCE_IMAGES',
      `The gate's statistics need at least ${MIN_REFERENCE_IMAGES} usable reference images; ${features.length} of ${labelled} could be used`,
      { usable: features.length, total: labelled, ...skipped },
    );
  }
  return { description: dataset.description, sha256: dataset.sha256, features, skipped, positives, labelled };
}
