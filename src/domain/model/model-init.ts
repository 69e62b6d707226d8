import { describeValidationIssues } from '../validation-issues.js';
import { z } from 'zod';
import { PlatformError } from '../errors.js';
import type { RasterDeclaration } from '../image/image-frame.js';
import { PHOTOMETRIC_INTERPRETATIONS, type ModelManifest } from './model-manifest.js';

/**
 * `vigil model init`: what the owner of an ONNX network answers (a JSON file, flags, or a MONAI
 * bundle's metadata.json), and the manifest drafted from those answers and the network's own
 * signature. Pure: the workflow reads the files, asks the runtime for the signature, and adds what
 * only data can give (gate statistics, calibration, policy).
 */

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const probability = finite.refine((v) => v >= 0 && v <= 1, 'must be within [0, 1]');
const positiveInt = z.number().int().positive();
const text = z.string().min(1);

export const modelInitAnswersSchema = z.strictObject({
  id: text.optional(),
  version: text.optional(),
  name: text.optional(),
  description: text.optional(),
  intendedUse: z
    .strictObject({
      summary: text,
      modalities: z.array(text).min(1),
      bodyParts: z.array(text).min(1),
      views: z.array(text),
      population: text,
      notFor: z.array(text),
      patientAgeYears: z.strictObject({ min: z.number().int().min(0).max(130), max: z.number().int().min(0).max(130) }),
      photometricInterpretations: z.array(z.enum(PHOTOMETRIC_INTERPRETATIONS)).min(1),
      minRows: positiveInt,
      minColumns: positiveInt,
      minBitsStored: z.number().int().min(1).max(32),
      whenUndeclared: z.enum(['warn', 'reject']),
      whenUnknown: z.strictObject({
        modality: z.enum(['warn', 'reject']).optional(),
        bodyPart: z.enum(['warn', 'reject']).optional(),
        view: z.enum(['warn', 'reject']).optional(),
        patientAge: z.enum(['warn', 'reject']).optional(),
      }),
    })
    .partial()
    .optional(),
  input: z
    .strictObject({ name: text, channels: z.array(z.enum(['grayscale', 'red', 'green', 'blue'])).min(1), valueRange: z.tuple([finite, finite]) })
    .partial()
    .optional(),
  preprocessing: z
    .strictObject({
      resize: z.strictObject({ width: positiveInt, height: positiveInt, filter: z.enum(['area', 'bilinear', 'nearest']).optional() }),
      normalize: z.strictObject({ mean: z.array(finite).min(1), std: z.array(finite.refine((v) => v > 0, 'must be > 0')).min(1) }),
      voiWindow: z.strictObject({
        mode: z.enum(['dicom_or_percentile', 'percentile']).optional(),
        percentiles: z.tuple([probability, probability]).optional(),
      }),
      grayscaleWeights: z.tuple([finite, finite, finite]),
    })
    .partial()
    .optional(),
  findings: z
    .array(
      z.strictObject({
        label: text,
        index: z.number().int().min(0),
        /** The model output that carries it; default: the model's only output. */
        output: text.optional(),
        activation: z.enum(['logit', 'probability']).optional(),
        code: z.strictObject({ system: text, code: text, display: text }).optional(),
      }),
    )
    .min(1)
    .optional(),
  /** The model output production monitoring watches as each image's learned representation (manifest `embedding`). */
  embedding: z.strictObject({ output: text }).optional(),
  costs: z
    .strictObject({ costFalseNegative: finite.refine((v) => v >= 0, 'must be >= 0'), costFalsePositive: finite.refine((v) => v >= 0, 'must be >= 0') })
    .optional(),
  calibration: z.enum(['temperature', 'platt', 'isotonic']).optional(),
  policy: z
    .strictObject({
      threshold: z.enum(['bayes', 'cost-optimal']),
      maxErrorNotReferred: probability,
      coverage: probability,
      prevalence: probability,
      onGateWarn: z.enum(['refer', 'decide']),
    })
    .partial()
    .optional(),
  trainingData: z
    .strictObject({ dataset: text, licence: text, citation: text, sha256: z.string().regex(/^[0-9a-f]{64}$/) })
    .partial()
    .optional(),
  model: z
    .strictObject({ framework: text, opset: positiveInt, libraryVersions: z.record(z.string(), z.string()) })
    .partial()
    .optional(),
});

export type ModelInitAnswers = z.infer<typeof modelInitAnswersSchema>;

function answersError(source: string, problems: readonly string[]): PlatformError {
  return new PlatformError('MODEL_INIT_ANSWERS_INVALID', `${source}: ${problems.join('; ')}`, { problems: problems.length });
}

/** Validates parsed answers; the error names each wrong field by its path (never its value). */
export function parseModelInitAnswers(json: unknown, source: string): ModelInitAnswers {
  const result = modelInitAnswersSchema.safeParse(json);
  if (result.success) return result.data;
  throw answersError(source, describeValidationIssues(result.error.issues, { nameUnknownFields: true }));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Later answers win, field by field (objects merged, arrays replaced): MONAI metadata, then the answers file, then flags. */
export function mergeAnswers(...layers: readonly ModelInitAnswers[]): ModelInitAnswers {
  const merge = (a: unknown, b: unknown): unknown => {
    if (!isObject(a) || !isObject(b)) return b === undefined ? a : b;
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) if (v !== undefined) out[k] = merge(a[k], v);
    return out;
  };
  return layers.reduce<unknown>((acc, layer) => merge(acc, layer), {}) as ModelInitAnswers;
}

/**
 * What a MONAI bundle's `configs/metadata.json` declares, as answers: name, version, description and
 * intended use; the first input's channels (1 grey, 3 RGB), spatial shape (the resize) and value range;
 * the first output's classes (`channel_def`) as findings by index — for a two-class output, only
 * class 1 (class 0 being the absence of the finding) — with `probability` activation when its `type`
 * is `probabilities`; the MONAI and PyTorch versions. Unknown fields are ignored: MONAI metadata has
 * many Vigil has no use for.
 */
export function answersFromMonaiMetadata(json: unknown): ModelInitAnswers {
  if (!isObject(json)) throw answersError('MONAI metadata.json', ['(root): must be a JSON object']);
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const answers: Record<string, unknown> = {};
  if (str(json.name) !== undefined) answers.name = json.name;
  if (str(json.version) !== undefined) answers.version = json.version;
  if (str(json.description) !== undefined) answers.description = json.description;
  if (str(json.intended_use) !== undefined) answers.intendedUse = { summary: json.intended_use };
  if (str(json.data_source) !== undefined) answers.trainingData = { dataset: json.data_source };
  const versions: Record<string, string> = {};
  for (const [key, name] of [
    ['monai_version', 'monai'],
    ['pytorch_version', 'torch'],
    ['numpy_version', 'numpy'],
  ] as const) {
    const v = str(json[key]);
    if (v !== undefined) versions[name] = v;
  }
  if (Object.keys(versions).length > 0)
    answers.model = { framework: versions.torch === undefined ? 'MONAI' : `PyTorch ${versions.torch}`, libraryVersions: versions };
  const format = isObject(json.network_data_format) ? json.network_data_format : {};
  const firstOf = (v: unknown): Record<string, unknown> | undefined => {
    if (!isObject(v)) return undefined;
    const first = Object.values(v)[0];
    return isObject(first) ? first : undefined;
  };
  const input = firstOf(format.inputs);
  if (input !== undefined) {
    const channels = input.num_channels;
    if (channels === 1 || channels === 3) answers.input = { channels: channels === 1 ? ['grayscale'] : ['red', 'green', 'blue'] };
    const shape: unknown = input.spatial_shape;
    if (Array.isArray(shape) && shape.length === 2) {
      const [height, width] = shape as unknown[];
      // MONAI gives 2D spatial shapes as [H, W] (channel-first arrays without the channel).
      if (Number.isInteger(height) && Number.isInteger(width)) answers.preprocessing = { resize: { height, width } };
    }
    const range = input.value_range;
    if (Array.isArray(range) && range.length === 2 && range.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      answers.input = { ...(answers.input as object | undefined), valueRange: range };
    }
  }
  const output = firstOf(format.outputs);
  if (output !== undefined && isObject(output.channel_def)) {
    const classes = Object.entries(output.channel_def)
      .map(([index, label]) => ({ index: Number(index), label: str(label) }))
      .filter((c): c is { index: number; label: string } => Number.isInteger(c.index) && c.index >= 0 && c.label !== undefined)
      .sort((a, b) => a.index - b.index);
    const findings = classes.length === 2 ? classes.filter((c) => c.index === 1) : classes;
    const activation = output.type === 'probabilities' ? 'probability' : 'logit';
    if (findings.length > 0) answers.findings = findings.map((c) => ({ label: c.label, index: c.index, activation }));
  }
  return parseModelInitAnswers(answers, 'MONAI metadata.json');
}

/** A model input or output as the runtime describes it (ports/model-runner.ts TensorSignature). */
export interface TensorDescription {
  readonly name: string;
  readonly dtype: string | null;
  readonly shape: readonly (number | null)[];
}

/** The manifest without what data gives: gate statistics, calibration, decision policy, training data, metrics. */
export type ManifestDraft = Omit<ModelManifest, 'quality' | 'referenceStatistics' | 'calibration' | 'decisionPolicy' | 'trainingData' | 'metrics'>;

/**
 * Where each required answer can be given: the answers file always (its format: docs/model-bundle.md,
 * "Bring your own model"), and some by a flag of `vigil model init` too. Several (the summary, the
 * population, the findings) have no flag: the message must not promise one.
 */
const ANSWERED_BY: Readonly<Record<string, string>> = {
  id: '--id or the answers file',
  version: '--model-version or the answers file',
  name: '--name or the answers file',
  'intendedUse.summary': 'the answers file',
  'intendedUse.modalities': '--modality or the answers file',
  'intendedUse.bodyParts': '--body-part or the answers file',
  'intendedUse.population': 'the answers file',
  findings: 'the answers file',
  costs: '--cost-fn and --cost-fp, or the answers file',
  'model.opset': '--opset or the answers file',
};
const ANSWERS_FORMAT = 'the answers file (--answers FILE, JSON) is described in docs/model-bundle.md, "Bring your own model"';
const DEFAULT_VOI_PERCENTILES: [number, number] = [0.005, 0.995];
const BT601: [number, number, number] = [0.299, 0.587, 0.114];

/**
 * Drafts the manifest from the answers and the network's signature, or throws:
 * MODEL_INIT_ANSWERS_INVALID (an unanswered field), MODEL_INIT_INPUT_UNSUPPORTED (an input Vigil's
 * preprocessing cannot fill), MODEL_INIT_OUTPUT_INVALID (a finding on a missing output or index).
 * What was declared of the datasets (`--modality` …) fills an unanswered intended use.
 *
 * @example draftManifest(answers, { inputs, outputs }, { sha256, declared }).input.shape // [-1, 1, 28, 28]
 */
export function draftManifest(
  answers: ModelInitAnswers,
  signature: { readonly inputs: readonly TensorDescription[]; readonly outputs: readonly TensorDescription[] },
  context: { readonly modelSha256: string; readonly declared?: RasterDeclaration },
): ManifestDraft {
  const missing: string[] = [];
  const need = <T>(value: T | undefined, path: string): T => {
    if (value === undefined) missing.push(`${path}: must be answered (${ANSWERED_BY[path] ?? 'the answers file'})`);
    return value as T;
  };
  const declared = context.declared;
  const use = answers.intendedUse ?? {};
  const id = need(answers.id, 'id');
  const version = need(answers.version, 'version');
  const name = need(answers.name, 'name');
  const summary = need(use.summary, 'intendedUse.summary');
  const modalities = need(use.modalities ?? (declared?.modality === undefined ? undefined : [declared.modality.toUpperCase()]), 'intendedUse.modalities');
  const bodyParts = need(
    use.bodyParts ?? (declared?.bodyPartExamined === undefined ? undefined : [declared.bodyPartExamined.toUpperCase()]),
    'intendedUse.bodyParts',
  );
  const population = need(use.population, 'intendedUse.population');
  const findings = need(answers.findings, 'findings');
  need(answers.costs, 'costs');
  const opset = need(answers.model?.opset, 'model.opset');
  if (missing.length > 0) throw answersError('The answers', [...missing, ANSWERS_FORMAT]);

  // The input: one float32 NCHW tensor of 1 or 3 channels, whose height and width the resize fixes.
  const inputs = answers.input?.name === undefined ? signature.inputs : signature.inputs.filter((i) => i.name === answers.input?.name);
  const input = inputs[0];
  if (inputs.length !== 1 || input === undefined) {
    throw new PlatformError(
      'MODEL_INIT_INPUT_UNSUPPORTED',
      `Vigil feeds one image tensor; the model has ${signature.inputs.length} input(s) (${signature.inputs.map((i) => i.name).join(', ')})${answers.input?.name === undefined ? '' : ', none of them the one named in the answers'}`,
      { inputs: signature.inputs.length },
    );
  }
  const [, c, h, w] = input.shape;
  if (input.dtype !== 'float32' || input.shape.length !== 4 || (c !== 1 && c !== 3)) {
    throw new PlatformError(
      'MODEL_INIT_INPUT_UNSUPPORTED',
      `Input "${input.name}" is ${input.dtype ?? 'not a tensor'} [${input.shape.map((d) => d ?? '?').join(', ')}]: Vigil's preprocessing fills a float32 tensor [N, C, H, W] with C = 1 or 3`,
      { dtype: input.dtype ?? 'none', rank: input.shape.length },
    );
  }
  const resize = answers.preprocessing?.resize;
  const height = resize?.height ?? h;
  const width = resize?.width ?? w;
  if (height === null || height === undefined || width === null || width === undefined) {
    throw new PlatformError('MODEL_INIT_INPUT_UNSUPPORTED', `Input "${input.name}" has a dynamic height or width: give preprocessing.resize`, {});
  }
  if ((h !== null && h !== height) || (w !== null && w !== width)) {
    throw new PlatformError(
      'MODEL_INIT_INPUT_UNSUPPORTED',
      `Input "${input.name}" takes ${w ?? '?'}×${h ?? '?'} pixels; the preprocessing resizes to ${width}×${height}`,
      { width, height },
    );
  }
  const channels = answers.input?.channels ?? (c === 1 ? (['grayscale'] as const) : (['red', 'green', 'blue'] as const));
  if (channels.length !== c) {
    throw new PlatformError('MODEL_INIT_INPUT_UNSUPPORTED', `Input "${input.name}" has ${c} channel(s); the answers name ${channels.length}`, {});
  }
  const normalize = answers.preprocessing?.normalize ?? { mean: [0], std: [1] };
  if (![1, c].includes(normalize.mean.length) || ![1, c].includes(normalize.std.length)) {
    throw answersError('The answers', [`preprocessing.normalize: mean and std need 1 or ${c} values`]);
  }
  // The analysis image is in [0, 1]; normalize maps each channel's [0, 1] onto the tensor's range.
  const ends = Array.from({ length: c }, (_, k) =>
    [0, 1].map((v) => (v - normalize.mean[k % normalize.mean.length]!) / normalize.std[k % normalize.std.length]!),
  );
  const valueRange = answers.input?.valueRange ?? [Math.min(...ends.flat()), Math.max(...ends.flat())];

  // The embedding, when answered: a float32 output [N, d] of a fixed size d.
  let embedding: ModelManifest['embedding'];
  if (answers.embedding !== undefined) {
    const spec = signature.outputs.find((o) => o.name === answers.embedding?.output);
    const d = spec?.shape[1];
    if (spec === undefined || spec.dtype !== 'float32' || spec.shape.length !== 2 || d === null || d === undefined) {
      throw new PlatformError(
        'MODEL_INIT_OUTPUT_INVALID',
        `${spec === undefined ? `The model has no output "${answers.embedding.output}"` : `Output "${spec.name}" is not a float32 [N, d] tensor of a fixed d`}, which the answers name as the embedding; its outputs: ${describeTensors(signature.outputs)}`,
        { outputs: signature.outputs.length },
      );
    }
    embedding = { output: spec.name, dimension: d };
  }
  // The outputs: each finding on an existing output, at an index below its values per image (by
  // default the model's only output besides the embedding).
  const findingOutputs = signature.outputs.filter((o) => o.name !== embedding?.output);
  const outputNames = [...new Set(findings.map((f) => f.output ?? (findingOutputs.length === 1 ? findingOutputs[0]!.name : undefined)))];
  const outputs: ModelManifest['outputs'] = [];
  for (const outputName of outputNames) {
    const spec = signature.outputs.find((o) => o.name === outputName);
    if (outputName === undefined || spec === undefined) {
      throw new PlatformError(
        'MODEL_INIT_OUTPUT_INVALID',
        `${outputName === undefined ? 'A finding names no output and the model has several' : `The model has no output "${outputName}"`}; its outputs: ${describeTensors(signature.outputs)}`,
        { outputs: signature.outputs.length },
      );
    }
    const perImage = spec.shape.slice(1);
    const size = perImage.every((d): d is number => d !== null) ? perImage.reduce((a, b) => a * b, 1) : undefined;
    const mine = findings.filter((f) => (f.output ?? spec.name) === spec.name);
    for (const f of mine) {
      if (size !== undefined && f.index >= size) {
        throw new PlatformError(
          'MODEL_INIT_OUTPUT_INVALID',
          `Finding "${f.label}" reads value ${f.index} of output "${spec.name}", which has ${size} per image (${describeTensors([spec])})`,
          { index: f.index, size },
        );
      }
    }
    const activations = new Set(mine.map((f) => f.activation ?? 'logit'));
    if (activations.size > 1) throw answersError('The answers', [`findings: output "${spec.name}" cannot be both a logit and a probability`]);
    outputs.push({
      name: spec.name,
      activation: [...activations][0] ?? 'logit',
      findings: mine.map((f) => ({ index: f.index, label: f.label, ...(f.code === undefined ? {} : { code: f.code }) })),
    });
  }

  const prep = answers.preprocessing ?? {};
  const declaredAge = declared?.patientAgeYears;
  const age =
    use.patientAgeYears ??
    (declaredAge === undefined
      ? undefined
      : typeof declaredAge === 'number'
        ? { min: declaredAge, max: declaredAge }
        : { min: declaredAge.min, max: declaredAge.max });
  const views = use.views ?? (declared?.viewPosition === undefined ? [] : [declared.viewPosition.toUpperCase()]);
  return {
    schemaVersion: 1,
    id,
    version,
    name,
    description: answers.description ?? `${name}: an ONNX network brought to Vigil with vigil model init.`,
    intendedUse: {
      summary,
      modalities,
      bodyParts,
      views,
      population,
      notFor: use.notFor ?? [],
      photometricInterpretations: use.photometricInterpretations ?? (c === 1 ? ['MONOCHROME1', 'MONOCHROME2'] : ['RGB', 'YBR_FULL', 'YBR_FULL_422']),
      minRows: use.minRows ?? height,
      minColumns: use.minColumns ?? width,
      minBitsStored: use.minBitsStored ?? 8,
      whenUndeclared: use.whenUndeclared ?? 'warn',
      ...(use.whenUnknown === undefined ? {} : { whenUnknown: use.whenUnknown }),
      ...(age === undefined ? {} : { patientAgeYears: age }),
    },
    input: { name: input.name, dtype: 'float32', shape: [-1, c, height, width], layout: 'NCHW', channels: [...channels], valueRange },
    preprocessing: [
      { op: 'modality_lut' },
      { op: 'voi_window', mode: prep.voiWindow?.mode ?? 'dicom_or_percentile', percentiles: prep.voiWindow?.percentiles ?? DEFAULT_VOI_PERCENTILES },
      { op: 'invert_monochrome1' },
      ...(c === 1 ? [{ op: 'to_grayscale' as const, weights: prep.grayscaleWeights ?? BT601 }] : []),
      { op: 'resize', width, height, filter: resize?.filter ?? 'area' },
      { op: 'normalize', mean: normalize.mean, std: normalize.std },
    ],
    outputs,
    ...(embedding === undefined ? {} : { embedding }),
    model: {
      file: 'model.onnx',
      sha256: context.modelSha256,
      opset,
      framework: answers.model?.framework ?? 'not stated',
      libraryVersions: answers.model?.libraryVersions ?? {},
    },
  };
}

function describeTensors(tensors: readonly TensorDescription[]): string {
  return tensors.map((t) => `${t.name} [${t.shape.map((d) => d ?? '?').join(', ')}]`).join(', ');
}
