import { calibrateScore } from '../calibration/calibrate.js';
import { decideFinding, type FindingDecision } from '../decision/decide.js';
import { PlatformError } from '../errors.js';
import type { ImageFrame, PatientAgeYears, RasterDeclaration } from '../image/image-frame.js';
import type { ModelManifest } from '../model/model-manifest.js';
import { preprocessFrame } from '../preprocessing/preprocess.js';
import { gateImage, type GateVerdict } from '../quality/gate.js';
import { computeImageFeatures, type ImageFeatures } from '../quality/image-features.js';

/**
 * The pure steps of Vigil's one inference chain (decode → preprocess → gate → batch → run →
 * calibrate → decide). `vigil predict`, the server's judging and `vigil evaluate`/`calibrate`/`policy`
 * all go through them (workflows/inference-chain.ts adds the batching and the model run), so an
 * evaluated model is the model in use, step for step.
 */

/** One image made ready for the model: its tensor, the gate's verdict and the features it measured. */
export interface PreparedImage {
  readonly tensor: Float32Array;
  readonly gate: GateVerdict;
  /** Measured on the preprocessed analysis image: what the gate's quality and distribution checks saw. */
  readonly features: ImageFeatures;
  /** The single-channel analysis image in [0, 1] at the model's input size (width × height), for further measures. */
  readonly analysis: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** One finding's outcome for one image: the model's raw output, its calibrated probability and the policy's decision. */
export interface ScoredFinding {
  readonly finding: string;
  /** The model output (tensor name) and index that carry the finding. */
  readonly output: string;
  readonly index: number;
  readonly activation: 'logit' | 'probability';
  readonly raw: number;
  readonly probability: number;
  readonly decision: FindingDecision;
}

/** The model's output tensors for one batch, by name (as ModelSession.run returns them). */
export type BatchOutputs = Readonly<Record<string, { readonly data: ArrayLike<number> }>>;

/**
 * What a PNG/JPEG (or a MedMNIST image) is declared to be, applied to its frame; a DICOM frame keeps
 * its own attributes, whatever was declared.
 */
export function applyDeclaration(frame: ImageFrame, declared: RasterDeclaration | undefined): ImageFrame {
  if (declared === undefined || frame.attributes.source !== 'raster') return frame;
  return {
    ...frame,
    attributes: {
      ...frame.attributes,
      ...(declared.modality === undefined ? {} : { modality: declared.modality.toUpperCase() }),
      ...(declared.bodyPartExamined === undefined ? {} : { bodyPartExamined: declared.bodyPartExamined.toUpperCase() }),
      ...(declared.viewPosition === undefined ? {} : { viewPosition: declared.viewPosition.toUpperCase() }),
    },
  };
}

/** Preprocesses a frame as the manifest declares, measures its features and gates it. */
export function prepareImage(frame: ImageFrame, manifest: ModelManifest, patientAgeYears: PatientAgeYears | undefined): PreparedImage {
  const prepared = preprocessFrame(frame, manifest);
  const features = computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
  const gate = gateImage(
    { attributes: frame.attributes, rows: frame.rows, columns: frame.columns, features, ...(patientAgeYears === undefined ? {} : { patientAgeYears }) },
    manifest,
  );
  return { tensor: prepared.tensor, gate, features, analysis: prepared.analysis, width: prepared.width, height: prepared.height };
}

/** Concatenates one tensor per image into the batch the model takes (NCHW). */
export function stackTensors(tensors: readonly Float32Array[]): Float32Array {
  const perImage = tensors[0]?.length ?? 0;
  const input = new Float32Array(perImage * tensors.length);
  // Every tensor has the manifest's input shape (preprocessFrame writes exactly that).
  tensors.forEach((t, i) => input.set(t, i * perImage));
  return input;
}

/**
 * Reads every declared finding of image `b` out of a batch's outputs, calibrates it with the
 * manifest's calibration and decides it with the finding's policy (a gate warning refers it when
 * the policy says so). Throws MODEL_OUTPUT_INVALID when a declared output is missing or too short.
 */
export function scoreImage(manifest: ModelManifest, outputs: BatchOutputs, batchSize: number, b: number, gate: GateVerdict): ScoredFinding[] {
  const findings: ScoredFinding[] = [];
  for (const spec of manifest.outputs) {
    const tensor = outputs[spec.name];
    if (tensor === undefined) throw new PlatformError('MODEL_OUTPUT_INVALID', `The model gave no output "${spec.name}"`, {});
    const stride = tensor.data.length / batchSize;
    for (const finding of spec.findings) {
      if (!Number.isInteger(stride) || finding.index >= stride) {
        throw new PlatformError('MODEL_OUTPUT_INVALID', `The model's output "${spec.name}" has no value ${finding.index} per image`, {
          length: tensor.data.length,
          batchSize,
        });
      }
      const raw = tensor.data[b * stride + finding.index] as number;
      const probability = calibrateScore(raw, spec.activation, manifest.calibration);
      const policy = manifest.decisionPolicy[finding.label];
      // The manifest schema requires a policy for every finding.
      if (policy === undefined) throw new PlatformError('MODEL_MANIFEST_INVALID', `No decision policy for finding "${finding.label}"`, {});
      const { decision } = decideFinding(probability, policy, gate.verdict === 'warn' ? 'warn' : 'pass');
      findings.push({ finding: finding.label, output: spec.name, index: finding.index, activation: spec.activation, raw, probability, decision });
    }
  }
  return findings;
}
