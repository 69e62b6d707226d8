import { calibrateScore, logit } from '../domain/calibration/calibrate.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { ImageFrame, RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import { preprocessFrame } from '../domain/preprocessing/preprocess.js';
import { gateImage } from '../domain/quality/gate.js';
import { computeImageFeatures } from '../domain/quality/image-features.js';
import type { LabelledCase, LabelledDataset } from '../ports/evaluation-data.js';
import type { DicomReader, RasterReader } from '../ports/image-readers.js';
import type { ModelSession } from '../ports/model-runner.js';

export interface ScoreDependencies {
  readonly dicom: DicomReader;
  readonly raster: RasterReader;
  readonly bundle: ModelBundle;
  readonly session: ModelSession;
  readonly batchSize: number;
  /** What PNG/JPEG inputs are (they cannot say it themselves), as `vigil predict --modality … --body-part … --view … --patient-age-years …`. */
  readonly declared?: RasterDeclaration;
}

/** A dataset judged by one model: the cases the gate let through, with raw and calibrated scores. */
export interface ScoredCases {
  readonly finding: string;
  readonly activation: 'logit' | 'probability';
  readonly ids: readonly string[];
  readonly labels: Uint8Array;
  /** The model's raw output (a logit or a probability, per `activation`). */
  readonly rawScores: Float64Array;
  /** Calibrated with the bundle's own calibration. */
  readonly probabilities: Float64Array;
  readonly gateWarned: Uint8Array;
  readonly strata: ReadonlyMap<string, readonly string[]>;
  /** Cases counted before the gate. */
  readonly total: number;
  readonly rejected: number;
  /** Cases that could not be read or decoded. */
  readonly failed: number;
  /** Gate reasons behind rejections and warnings, by code. */
  readonly gateReasons: Readonly<Record<string, number>>;
}

/** Which finding of the bundle to evaluate: the named one, or the first. */
export function pickFinding(
  bundle: ModelBundle,
  label: string | undefined,
): { output: string; index: number; label: string; activation: 'logit' | 'probability' } {
  for (const output of bundle.manifest.outputs) {
    for (const f of output.findings) {
      if (label === undefined || f.label === label) return { output: output.name, index: f.index, label: f.label, activation: output.activation };
    }
  }
  throw new PlatformError('CLI_USAGE', `The model has no finding "${label}"`, {});
}

/**
 * Runs a labelled dataset through the same path as `vigil predict` — preprocessing as the manifest
 * declares, the gate, the model, the bundle's calibration — without writing decisions to the audit
 * log (an evaluation decides about no patient). Cases the gate rejects are counted and left out of
 * the metrics, as they would never reach the model in use; cases it warns about are kept and
 * flagged, so the policy's `onGateWarn` can refer them.
 */
export async function scoreDataset(deps: ScoreDependencies, dataset: LabelledDataset, findingLabel?: string): Promise<ScoredCases> {
  const { manifest } = deps.bundle;
  const finding = pickFinding(deps.bundle, findingLabel);
  const ids: string[] = [];
  const labels: number[] = [];
  const raw: number[] = [];
  const warned: number[] = [];
  const strata = new Map<string, string[]>(dataset.strataColumns.map((c) => [c, []]));
  const gateReasons: Record<string, number> = {};
  let total = 0;
  let rejected = 0;
  let failed = 0;
  let batch: { c: LabelledCase; tensor: Float32Array; warn: boolean }[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const perImage = batch[0]!.tensor.length;
    const input = new Float32Array(perImage * batch.length);
    batch.forEach((b, i) => input.set(b.tensor, i * perImage));
    const outputs = await deps.session.run(input, batch.length);
    const tensor = outputs[finding.output];
    if (tensor === undefined) throw new PlatformError('MODEL_OUTPUT_INVALID', `The model gave no output "${finding.output}"`, {});
    const stride = tensor.data.length / batch.length;
    batch.forEach((b, i) => {
      ids.push(b.c.id);
      labels.push(b.c.label);
      raw.push(tensor.data[i * stride + finding.index]!);
      warned.push(b.warn ? 1 : 0);
      for (const [column, values] of strata) values.push(b.c.strata[column] ?? '');
    });
    batch = [];
  };

  for await (const c of dataset.cases()) {
    total++;
    let frame: ImageFrame;
    try {
      frame = c.image.kind === 'frame' ? c.image.frame : await decodeFirstFrame(deps, c.image.bytes);
    } catch (cause) {
      // An unreadable image is counted, not fatal: the report states how many.
      void toPlatformError(cause);
      failed++;
      continue;
    }
    const prepared = preprocessFrame(frame, manifest);
    const features = computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
    // The age as the dataset gives it, else as declared for PNG/JPEG; a DICOM case's header age is not
    // derived here, so the gate reports it as unknown (an evaluation does not de-identify at a door).
    const age = c.patientAgeYears ?? (frame.attributes.source === 'raster' ? deps.declared?.patientAgeYears : undefined);
    const gate = gateImage(
      { attributes: frame.attributes, rows: frame.rows, columns: frame.columns, features, ...(age === undefined ? {} : { patientAgeYears: age }) },
      manifest,
    );
    for (const r of gate.reasons) gateReasons[r.code] = (gateReasons[r.code] ?? 0) + 1;
    if (gate.verdict === 'reject') {
      rejected++;
      continue;
    }
    batch.push({ c, tensor: prepared.tensor, warn: gate.verdict === 'warn' });
    if (batch.length >= deps.batchSize) await flush();
  }
  await flush();

  const rawScores = Float64Array.from(raw);
  return {
    finding: finding.label,
    activation: finding.activation,
    ids,
    labels: Uint8Array.from(labels),
    rawScores,
    probabilities: Float64Array.from(rawScores, (s) => calibrateScore(s, finding.activation, manifest.calibration)),
    gateWarned: Uint8Array.from(warned),
    strata,
    total,
    rejected,
    failed,
    gateReasons,
  };
}

async function decodeFirstFrame(deps: ScoreDependencies, bytes: Uint8Array): Promise<ImageFrame> {
  if (deps.dicom.isDicom(bytes)) return (await deps.dicom.readInstance(bytes)).decodeFrame(0);
  if (deps.raster.isRaster(bytes)) {
    const frame = await deps.raster.readRaster(bytes);
    const d = deps.declared;
    if (d === undefined) return frame;
    return {
      ...frame,
      attributes: {
        ...frame.attributes,
        ...(d.modality === undefined ? {} : { modality: d.modality.toUpperCase() }),
        ...(d.bodyPartExamined === undefined ? {} : { bodyPartExamined: d.bodyPartExamined.toUpperCase() }),
        ...(d.viewPosition === undefined ? {} : { viewPosition: d.viewPosition.toUpperCase() }),
      },
    };
  }
  throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The file is neither DICOM nor PNG/JPEG', {});
}

/** The logit a parametric calibration works on. */
export function logitOf(score: number, activation: 'logit' | 'probability'): number {
  return activation === 'logit' ? score : logit(score);
}
