import type { ModelIdentity } from '../domain/audit/audit-event.js';
import { calibrateScore } from '../domain/calibration/calibrate.js';
import { decideFinding, type FindingDecision } from '../domain/decision/decide.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { ImageFrame, RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import { preprocessFrame } from '../domain/preprocessing/preprocess.js';
import { gateImage, type GateReason, type GateVerdict, type GateVerdictKind } from '../domain/quality/gate.js';
import { computeImageFeatures } from '../domain/quality/image-features.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Hasher } from '../ports/hasher.js';
import type { DicomReader, RasterReader } from '../ports/image-readers.js';
import type { InputFile, InputFiles } from '../ports/input-files.js';
import type { Logger } from '../ports/logger.js';
import type { ModelSession } from '../ports/model-runner.js';
import type { Pseudonymizer } from '../ports/pseudonymizer.js';

export interface FindingOutput {
  readonly finding: string;
  readonly probability: number;
  readonly decision: FindingDecision;
}

/** One line of `vigil predict --json`: one per image or frame, or one per file that failed before its frames were known. */
export interface PredictResult {
  readonly input: { readonly file: string; readonly frame: number | null };
  readonly studyKey: string | null;
  readonly status: 'decided' | 'rejected' | 'error';
  readonly quality: { readonly verdict: GateVerdictKind; readonly reasons: readonly GateReason[] } | null;
  readonly outputs: readonly FindingOutput[];
  readonly model: ModelIdentity;
  readonly auditId: string | null;
  readonly error?: { readonly code: string; readonly message: string };
}

export interface PredictDependencies {
  readonly files: InputFiles;
  readonly dicom: DicomReader;
  readonly raster: RasterReader;
  readonly hasher: Hasher;
  readonly pseudonymizer: Pseudonymizer;
  readonly audit: AuditLog;
  readonly logger: Logger;
  readonly bundle: ModelBundle;
  readonly session: ModelSession;
  readonly configHash: string;
  readonly batchSize: number;
  /** Declared attributes for PNG/JPEG inputs (see RasterDeclaration). */
  readonly declared?: RasterDeclaration;
  /**
   * De-identification at the door (issue 3): the DICOM bytes as de-identified by the ingest profile
   * (VIGIL_DEID_OPTIONS), read instead of the original, or undefined when they cannot be (the reader then
   * reports the file's own error). Nothing identifying is held past this point.
   */
  readonly deidentifyAtIngest?: (bytes: Uint8Array) => Promise<Uint8Array | undefined>;
}

export interface PredictProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
}

interface Slot {
  result?: PredictResult;
}

interface Pending {
  readonly slot: Slot;
  readonly file: InputFile;
  readonly frameIndex: number | null;
  readonly studyKey: string;
  readonly pixelSha256: string;
  readonly gate: GateVerdict;
  readonly tensor: Float32Array;
}

/**
 * `vigil predict`: every file is read, decoded frame by frame, preprocessed as its manifest says,
 * gated, and — unless the gate rejected it — batched into the model; each score is calibrated and
 * decided, and each outcome is appended to the audit log before it is emitted. Results come out in
 * input order. A file that fails gets its own `error` result; the others go on.
 */
export async function predictImages(
  deps: PredictDependencies,
  paths: readonly string[],
  emit: (result: PredictResult) => void,
  onProgress: (progress: PredictProgress) => void = () => {},
): Promise<{ readonly decided: number; readonly rejected: number; readonly errors: number }> {
  const { bundle, logger } = deps;
  const counts = { decided: 0, rejected: 0, errors: 0 };
  const slots: Slot[] = [];
  let batch: Pending[] = [];

  const flush = (): void => {
    while (slots.length > 0 && slots[0]?.result !== undefined) {
      const result = (slots.shift() as Slot).result as PredictResult;
      if (result.status === 'decided') counts.decided++;
      else if (result.status === 'rejected') counts.rejected++;
      else counts.errors++;
      emit(result);
    }
  };

  const runBatch = async (): Promise<void> => {
    if (batch.length === 0) return;
    const current = batch;
    batch = [];
    await inferBatch(deps, current);
    flush();
  };

  const files = await deps.files.list(paths);
  let done = 0;
  for (const file of files) {
    let source: ImageSource | undefined;
    try {
      source = await openImageSource(deps, await deps.files.read(file));
    } catch (cause) {
      slots.push({ result: await recordError(deps, file, null, null, cause, 'read') });
    }
    for (let frameIndex = 0; source !== undefined && frameIndex < source.frameCount; frameIndex++) {
      const slot: Slot = {};
      slots.push(slot);
      const frameRef = source.isMultiFrame ? frameIndex : null;
      try {
        const frame = await source.decodeFrame(frameIndex);
        const pending = judgeFrame(deps, slot, file, frameRef, source.studyKey, frame);
        if (pending.gate.verdict === 'reject') slot.result = await recordRejection(deps, pending);
        else batch.push(pending);
      } catch (cause) {
        slot.result = await recordError(deps, file, frameRef, source.studyKey, cause, 'decode');
      }
      if (batch.length >= deps.batchSize) await runBatch();
    }
    flush();
    onProgress({ filesDone: ++done, filesTotal: files.length });
  }
  await runBatch();
  flush();
  logger.info({ count: files.length, status: 'done', model: bundle.identity.id }, 'predict finished');
  return counts;
}

interface ImageSource {
  readonly studyKey: string;
  readonly frameCount: number;
  readonly isMultiFrame: boolean;
  decodeFrame(index: number): Promise<ImageFrame>;
}

async function openImageSource(deps: PredictDependencies, bytes: Uint8Array): Promise<ImageSource> {
  if (deps.dicom.isDicom(bytes)) {
    const deidentified = deps.deidentifyAtIngest === undefined ? undefined : await deps.deidentifyAtIngest(bytes);
    const instance = await deps.dicom.readInstance(deidentified ?? bytes);
    // The study key is keyed on the Study Instance UID, so all of a study's files share it; a file
    // without one is keyed on its own content.
    const identifier = instance.identifiers.studyInstanceUid ?? `sha256:${deps.hasher.sha256Hex(bytes)}`;
    return {
      studyKey: deps.pseudonymizer.studyKey(identifier),
      frameCount: instance.frameCount,
      isMultiFrame: instance.frameCount > 1,
      decodeFrame: (index) => instance.decodeFrame(index),
    };
  }
  if (deps.raster.isRaster(bytes)) {
    return {
      studyKey: deps.pseudonymizer.studyKey(`sha256:${deps.hasher.sha256Hex(bytes)}`),
      frameCount: 1,
      isMultiFrame: false,
      decodeFrame: async () => declare(await deps.raster.readRaster(bytes), deps.declared),
    };
  }
  throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The file is neither DICOM nor PNG/JPEG', {});
}

function declare(frame: ImageFrame, declared: RasterDeclaration | undefined): ImageFrame {
  if (declared === undefined) return frame;
  const attributes = { ...frame.attributes };
  if (declared.modality !== undefined) attributes.modality = declared.modality.toUpperCase();
  if (declared.bodyPartExamined !== undefined) attributes.bodyPartExamined = declared.bodyPartExamined.toUpperCase();
  if (declared.viewPosition !== undefined) attributes.viewPosition = declared.viewPosition.toUpperCase();
  return { ...frame, attributes };
}

function judgeFrame(deps: PredictDependencies, slot: Slot, file: InputFile, frameIndex: number | null, studyKey: string, frame: ImageFrame): Pending {
  const { manifest } = deps.bundle;
  const pixels = frame.pixels;
  const pixelSha256 = deps.hasher.sha256Hex(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  const prepared = preprocessFrame(frame, manifest);
  const features = computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
  const gate = gateImage({ attributes: frame.attributes, rows: frame.rows, columns: frame.columns, features }, manifest);
  deps.logger.debug(
    { studyKey, frame: frame.frameIndex, verdict: gate.verdict, shape: `${frame.columns}x${frame.rows}x${frame.samplesPerPixel}` },
    'frame gated',
  );
  return { slot, file, frameIndex, studyKey, pixelSha256, gate, tensor: prepared.tensor };
}

function qualityOf(gate: GateVerdict): PredictResult['quality'] {
  return { verdict: gate.verdict, reasons: gate.reasons };
}

function auditedReasons(gate: GateVerdict): { code: string; verdict: GateVerdictKind; measured?: number | string; threshold?: number | string }[] {
  return gate.reasons.map((r) => ({
    code: r.code,
    verdict: r.verdict,
    ...(r.measured === undefined ? {} : { measured: r.measured }),
    ...(r.threshold === undefined ? {} : { threshold: r.threshold }),
  }));
}

function recordRejection(deps: PredictDependencies, pending: Pending): Promise<PredictResult> {
  return recordOutcome(deps, pending, 'rejected', []);
}

/** Appends the outcome to the audit log (durably) and only then builds the result that reports it. */
async function recordOutcome(
  deps: PredictDependencies,
  pending: Pending,
  status: 'decided' | 'rejected',
  outputs: readonly FindingOutput[],
): Promise<PredictResult> {
  const receipt = await deps.audit.append({
    type: 'decision',
    status,
    studyKey: pending.studyKey,
    pixelSha256: pending.pixelSha256,
    frameIndex: pending.frameIndex ?? 0,
    model: deps.bundle.identity,
    configHash: deps.configHash,
    gate: { verdict: pending.gate.verdict, reasons: auditedReasons(pending.gate) },
    outputs,
  });
  return {
    input: { file: pending.file.path, frame: pending.frameIndex },
    studyKey: pending.studyKey,
    status,
    quality: qualityOf(pending.gate),
    outputs,
    model: deps.bundle.identity,
    auditId: receipt.auditId,
  };
}

async function inferBatch(deps: PredictDependencies, batch: readonly Pending[]): Promise<void> {
  const { manifest } = deps.bundle;
  const perImage = (batch[0] as Pending).tensor.length;
  const input = new Float32Array(perImage * batch.length);
  batch.forEach((p, i) => input.set(p.tensor, i * perImage));
  const started = performance.now();
  let outputs: Awaited<ReturnType<ModelSession['run']>>;
  try {
    outputs = await deps.session.run(input, batch.length);
  } catch (cause) {
    for (const p of batch) p.slot.result = await recordError(deps, p.file, p.frameIndex, p.studyKey, cause, 'infer');
    return;
  }
  deps.logger.debug({ batchSize: batch.length, durationMs: performance.now() - started, model: manifest.id }, 'batch inferred');

  for (const [b, pending] of batch.entries()) {
    const findings: FindingOutput[] = [];
    for (const spec of manifest.outputs) {
      const tensor = outputs[spec.name];
      if (tensor === undefined) continue; // the runner guarantees every declared output
      const stride = tensor.data.length / batch.length;
      for (const finding of spec.findings) {
        const score = tensor.data[b * stride + finding.index] as number;
        const probability = calibrateScore(score, spec.activation, manifest.calibration);
        const policy = manifest.decisionPolicy[finding.label];
        if (policy === undefined) continue; // the manifest schema requires one per finding
        const { decision } = decideFinding(probability, policy, pending.gate.verdict === 'warn' ? 'warn' : 'pass');
        findings.push({ finding: finding.label, probability, decision });
      }
    }
    pending.slot.result = await recordOutcome(deps, pending, 'decided', findings);
  }
}

async function recordError(
  deps: PredictDependencies,
  file: InputFile,
  frameIndex: number | null,
  studyKey: string | null,
  cause: unknown,
  stage: string,
): Promise<PredictResult> {
  const error = toPlatformError(cause);
  // An input that fails is an outcome reported in its result line, not a fault of the system.
  deps.logger.info({ code: error.code, stage, ...(studyKey === null ? {} : { studyKey }) }, 'input failed');
  let auditId: string | null = null;
  try {
    auditId = (await deps.audit.append({ type: 'error', code: error.code, stage, ...(studyKey === null ? {} : { studyKey }) })).auditId;
  } catch (auditFailure) {
    // The audit log itself failing is not an input error: stop everything.
    throw toPlatformError(auditFailure, 'STORE_WRITE_FAILED', 'Could not append to the audit log');
  }
  return {
    input: { file: file.path, frame: frameIndex },
    studyKey,
    status: 'error',
    quality: null,
    outputs: [],
    model: deps.bundle.identity,
    auditId,
    error: { code: error.code, message: error.message },
  };
}
