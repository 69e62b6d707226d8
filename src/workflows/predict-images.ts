import type { AuditEvent, JudgementOrigin, ModelIdentity } from '../domain/audit/audit-event.js';
import type { FindingDecision } from '../domain/decision/decide.js';
import { PATIENT_AGE_CAP_YEARS } from '../domain/deidentification/patient-age.js';
import type { PlatformError } from '../domain/errors.js';
import { toPlatformError } from '../domain/errors.js';
import type { ImageFrame, PatientAgeYears, RasterDeclaration } from '../domain/image/image-frame.js';
import { summarizeImage, type ImageSummary } from '../domain/image/image-summary.js';
import { estimateNoiseSigma } from '../domain/quality/noise.js';
import { mahalanobisDistance } from '../domain/quality/ood.js';
import { uncheckedChecks, type GateCheck, type GateReason, type GateVerdict, type GateVerdictKind } from '../domain/quality/gate.js';
import type { AuditLog, AuditReceipt } from '../ports/audit-log.js';
import type { Hasher } from '../ports/hasher.js';
import type { InputFile, InputFiles } from '../ports/input-files.js';
import type { Logger } from '../ports/logger.js';
import type { Pseudonymizer } from '../ports/pseudonymizer.js';
import type { InferenceChain } from './inference-chain.js';
import type { InputKinds } from './input-kinds.js';

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
  /**
   * The gate's verdict, its reasons, and every check it makes with its outcome (`passed`, `failed`,
   * or `unchecked` with why: a restriction the gate could not check is a reason too, never a pass).
   */
  readonly quality: { readonly verdict: GateVerdictKind; readonly reasons: readonly GateReason[]; readonly checks: readonly GateCheck[] } | null;
  readonly outputs: readonly FindingOutput[];
  readonly model: ModelIdentity;
  readonly auditId: string | null;
  readonly error?: { readonly code: string; readonly message: string };
  /** What a reader is told about the image (modality, view, age, device…), as kept after de-identification; absent for a file that failed before it was read. */
  readonly image?: ImageSummary;
  /**
   * What the chain measured of a decided or rejected image, for production monitoring (only with
   * `measure`, i.e. the server's judging): the gate's image features, the noise estimate of the same
   * analysis image, and the distance from the training data. Not part of `vigil predict --json`.
   */
  readonly measures?: ImageMeasurements;
}

/** The chain's measurements of one image that monitoring watches (domain/monitoring/case-signals.ts). */
export interface ImageMeasurements {
  readonly mean: number;
  readonly std: number;
  readonly laplacianVariance: number;
  readonly noise: number;
  readonly oodDistance: number;
  /** How the image was encoded, for the acquisition monitors: the sender's photometric interpretation and, for DICOM, its transfer syntax. */
  readonly encoding: { readonly photometricInterpretation: string; readonly transferSyntax: string | null };
  /**
   * How a DICOM image was acquired, as its de-identified header states it (none for PNG/JPEG): Software
   * Versions, KVP and the pixel spacing (Pixel Spacing, else Imager Pixel Spacing), each absent when not stated.
   */
  readonly acquisition: {
    readonly softwareVersions?: readonly string[];
    readonly kvp?: number;
    readonly pixelSpacingMm?: readonly [number, number];
  };
  /**
   * The model's embedding of a decided image (the manifest's `embedding` output, float32), which
   * monitoring summarises; absent when the manifest declares none, or the gate rejected the image.
   */
  readonly embedding?: Float32Array;
}

export interface PredictDependencies {
  readonly files: InputFiles;
  /** The kinds of file read (DICOM, PNG/JPEG), each opened by its own reader. */
  readonly inputs: InputKinds;
  readonly hasher: Hasher;
  readonly pseudonymizer: Pseudonymizer;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** The model version judging, with its session: the same chain `vigil evaluate` measures. */
  readonly chain: InferenceChain;
  readonly configHash: string;
  /** Recorded with every decision and error: the server judging a received study, or `vigil predict`. */
  readonly origin: JudgementOrigin;
  /** The configured site of the study judged (server only), recorded with each decision. */
  readonly site?: string;
  /**
   * The key of the study judged (server only): every input is recorded under it. Without it each input
   * is keyed by its own Study Instance UID (DICOM) or its content (PNG/JPEG).
   */
  readonly studyKey?: string;
  readonly batchSize: number;
  /** Attach each decided or rejected image's `measures` (the server's judging, for monitoring). */
  readonly measure?: boolean;
  /**
   * Declared attributes for PNG/JPEG inputs (see RasterDeclaration), their patient age included, and
   * the site and device labels of an upload (shown to readers, for every input).
   */
  readonly declared?: RasterDeclaration & { readonly site?: string; readonly device?: string };
  /**
   * De-identification at the door (issue 3): the DICOM bytes as de-identified by the ingest profile
   * (VIGIL_DEID_OPTIONS), read instead of the original, with the patient's age in whole years derived
   * before de-identification (≥ 90 as 90; absent when unknown), or undefined when they cannot be (the
   * reader then reports the file's own error). Nothing identifying is held past this point.
   */
  readonly deidentifyAtIngest?: (bytes: Uint8Array) => Promise<DeidentifiedAtIngest | undefined>;
  /**
   * For DICOM inputs de-identified at ingest already (the server's instance store): the patient's age
   * kept at ingest for the file, or undefined when it was not known.
   */
  readonly storedPatientAge?: (file: InputFile) => number | undefined;
}

export interface DeidentifiedAtIngest {
  readonly bytes: Uint8Array;
  readonly patientAgeYears?: number;
}

export interface PredictProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
}

interface Slot {
  result?: PredictResult;
}

/**
 * An outcome whose audit entry is not written yet. Outcomes are queued in the order the entries used
 * to be appended one by one, and written together (group commit: one transaction, one fsync) when a
 * batch has been inferred, or sooner when nothing waits for the model; a result is set, and so
 * emitted, only once its entry is durable.
 */
interface QueuedOutcome {
  readonly event: AuditEvent;
  /** Sets the slot's result from the durable entry's receipt. */
  settle(receipt: AuditReceipt): void;
  /** What a failed append of this event alone leads to (see commitOutcomes). */
  failed(cause: unknown): Promise<void>;
}

interface Pending {
  readonly slot: Slot;
  readonly file: InputFile;
  readonly frameIndex: number | null;
  readonly studyKey: string;
  readonly pixelSha256: string;
  readonly gate: GateVerdict;
  readonly tensor: Float32Array;
  readonly image: ImageSummary;
  readonly measures: ImageMeasurements | undefined;
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
  const { logger } = deps;
  const bundle = deps.chain.bundle;
  const counts = { decided: 0, rejected: 0, errors: 0 };
  const slots: Slot[] = [];
  let batch: Pending[] = [];
  let outcomes: QueuedOutcome[] = [];
  const queue = (outcome: QueuedOutcome): void => {
    outcomes.push(outcome);
  };
  const commit = async (): Promise<void> => {
    if (outcomes.length === 0) return;
    const current = outcomes;
    outcomes = [];
    await commitOutcomes(deps, current);
  };

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
    await inferBatch(deps, current, queue);
    await commit();
    flush();
  };

  const files = await deps.files.list(paths);
  let done = 0;
  // Read-ahead: the next file is read, opened and (when it has one frame) decoded while this one is
  // preprocessed and judged, so that file I/O and sharp's decoding (on libuv's threads) overlap with
  // the work on the main thread. One file ahead at most.
  let next = files[0] === undefined ? undefined : openAhead(deps, files[0]);
  for (const [i, file] of files.entries()) {
    const opened = await (next as Promise<OpenedFile>);
    const following = files[i + 1];
    next = following === undefined ? undefined : openAhead(deps, following);
    const source = opened.ok ? opened.source : undefined;
    if (!opened.ok) {
      const slot: Slot = {};
      slots.push(slot);
      queueError(deps, queue, slot, file, null, null, opened.cause, 'read');
    }
    for (let frameIndex = 0; source !== undefined && frameIndex < source.frameCount; frameIndex++) {
      const slot: Slot = {};
      slots.push(slot);
      const frameRef = source.isMultiFrame ? frameIndex : null;
      try {
        const frame = await (frameIndex === 0 && opened.ok && opened.firstFrame !== undefined ? opened.firstFrame : source.decodeFrame(frameIndex));
        const pending = judgeFrame(deps, slot, file, frameRef, source, frame);
        if (pending.gate.verdict === 'reject') queueRejection(deps, queue, pending);
        else batch.push(pending);
      } catch (cause) {
        queueError(deps, queue, slot, file, frameRef, source.studyKey, cause, 'decode');
      }
      if (batch.length >= deps.batchSize) await runBatch();
      else if (outcomes.length >= deps.batchSize) await commit();
    }
    // With no frame waiting for the model, nothing is gained by holding the outcomes back.
    if (batch.length === 0) await commit();
    flush();
    onProgress({ filesDone: ++done, filesTotal: files.length });
  }
  await runBatch();
  await commit();
  flush();
  logger.info({ count: files.length, status: 'done', model: bundle.identity.id }, 'predict finished');
  return counts;
}

type OpenedFile =
  { readonly ok: true; readonly source: ImageSource; readonly firstFrame: Promise<ImageFrame> | undefined } | { readonly ok: false; readonly cause: unknown };

/**
 * Reads and opens a file, and starts decoding a single-frame file's frame, without waiting: failures
 * are kept (and reported at the file's turn, with the stage they had), never left unhandled.
 */
async function openAhead(deps: PredictDependencies, file: InputFile): Promise<OpenedFile> {
  try {
    const source = await openImageSource(deps, file, await deps.files.read(file));
    const firstFrame = source.frameCount === 1 ? source.decodeFrame(0) : undefined;
    // Handled where it is awaited; this only keeps an early rejection from counting as unhandled.
    firstFrame?.catch(() => {});
    return { ok: true, source, firstFrame };
  } catch (cause) {
    return { ok: false, cause };
  }
}

interface ImageSource {
  readonly studyKey: string;
  /** The patient's age in whole years (≥ 90 as 90), or a declared range, for the intended-use gate; undefined when unknown. */
  readonly patientAgeYears: PatientAgeYears | undefined;
  readonly frameCount: number;
  readonly isMultiFrame: boolean;
  decodeFrame(index: number): Promise<ImageFrame>;
}

async function openImageSource(deps: PredictDependencies, file: InputFile, bytes: Uint8Array): Promise<ImageSource> {
  const kind = deps.inputs.require(bytes);
  if (kind.carriesIdentifiers) {
    // De-identified at the door before anything reads it; the age is derived before de-identification.
    const deidentified = deps.deidentifyAtIngest === undefined ? undefined : await deps.deidentifyAtIngest(bytes);
    const input = await kind.open(deidentified?.bytes ?? bytes);
    // The study key is keyed on the Study Instance UID, so all of a study's files share it; a file
    // without one is keyed on its own content.
    const identifier = input.identifiers.studyInstanceUid ?? `sha256:${deps.hasher.sha256Hex(bytes)}`;
    return {
      studyKey: deps.studyKey ?? deps.pseudonymizer.studyKey(identifier),
      patientAgeYears: deps.deidentifyAtIngest === undefined ? deps.storedPatientAge?.(file) : deidentified?.patientAgeYears,
      frameCount: input.frameCount,
      isMultiFrame: input.frameCount > 1,
      decodeFrame: (index) => input.decodeFrame(index),
    };
  }
  const input = await kind.open(bytes);
  return {
    studyKey: deps.studyKey ?? deps.pseudonymizer.studyKey(`sha256:${deps.hasher.sha256Hex(bytes)}`),
    // Declared ages are aggregated like derived ones (HIPAA Safe Harbor: 90 and over as 90).
    patientAgeYears: deps.declared?.patientAgeYears === undefined ? undefined : capAge(deps.declared.patientAgeYears),
    frameCount: input.frameCount,
    isMultiFrame: input.frameCount > 1,
    decodeFrame: (index) => input.decodeFrame(index),
  };
}

function judgeFrame(deps: PredictDependencies, slot: Slot, file: InputFile, frameIndex: number | null, source: ImageSource, frame: ImageFrame): Pending {
  const { studyKey, patientAgeYears } = source;
  const pixels = frame.pixels;
  const pixelSha256 = deps.hasher.sha256Hex(new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength));
  const prepared = deps.chain.prepare(frame, patientAgeYears, deps.declared);
  const { gate, tensor, frame: described } = prepared;
  deps.logger.debug(
    { studyKey, frame: frame.frameIndex, verdict: gate.verdict, shape: `${frame.columns}x${frame.rows}x${frame.samplesPerPixel}` },
    'frame gated',
  );
  const image = summarizeImage(described.attributes, patientAgeYears, deps.declared);
  // Measured on the analysis image the gate saw (no second decode), as `vigil evaluate` measures it (score-dataset.ts).
  const measures: ImageMeasurements | undefined =
    deps.measure === true
      ? {
          mean: prepared.features.mean,
          std: prepared.features.std,
          laplacianVariance: prepared.features.laplacianVariance,
          noise: estimateNoiseSigma(prepared.analysis, prepared.width, prepared.height),
          oodDistance: Number.isNaN(gate.oodDistance)
            ? mahalanobisDistance(prepared.features, deps.chain.bundle.manifest.referenceStatistics)
            : gate.oodDistance,
          encoding: {
            photometricInterpretation: described.attributes.originalPhotometric,
            transferSyntax: described.attributes.source === 'dicom' ? (described.attributes.transferSyntaxUid ?? null) : null,
          },
          acquisition: acquisitionHeader(described.attributes),
        }
      : undefined;
  return { slot, file, frameIndex, studyKey, pixelSha256, gate, tensor, image, measures };
}

function acquisitionHeader(attributes: ImageFrame['attributes']): ImageMeasurements['acquisition'] {
  const { softwareVersions, kvp, pixelSpacingMm } = attributes;
  return {
    ...(softwareVersions === undefined ? {} : { softwareVersions }),
    ...(kvp === undefined ? {} : { kvp }),
    ...(pixelSpacingMm === undefined ? {} : { pixelSpacingMm }),
  };
}

function capAge(age: PatientAgeYears): PatientAgeYears {
  return typeof age === 'number'
    ? Math.min(age, PATIENT_AGE_CAP_YEARS)
    : { min: Math.min(age.min, PATIENT_AGE_CAP_YEARS), max: Math.min(age.max, PATIENT_AGE_CAP_YEARS) };
}

function qualityOf(gate: GateVerdict): PredictResult['quality'] {
  return { verdict: gate.verdict, reasons: gate.reasons, checks: gate.checks };
}

/** The gate as the audit entry states it: the verdict, each reason (failed or unchecked), and every check not made, with why. */
function auditedGate(gate: GateVerdict): Extract<AuditEvent, { type: 'decision' }>['gate'] {
  return {
    verdict: gate.verdict,
    reasons: gate.reasons.map((r) => ({
      code: r.code,
      verdict: r.verdict,
      ...(r.measured === undefined ? {} : { measured: r.measured }),
      ...(r.threshold === undefined ? {} : { threshold: r.threshold }),
      check: r.check,
      outcome: r.outcome,
      ...(r.why === undefined ? {} : { why: r.why }),
    })),
    unchecked: uncheckedChecks(gate.checks),
  };
}

/**
 * Writes the queued outcomes' entries in one group commit, then sets their results. If the group
 * fails (it is all or nothing, so nothing was written), the events are appended one at a time, so
 * that each failure has the consequence it had before group commit: a rejection that cannot be
 * recorded becomes an error result (if that can be recorded), and a decision or an error that cannot
 * be recorded stops the run.
 */
async function commitOutcomes(deps: PredictDependencies, outcomes: readonly QueuedOutcome[]): Promise<void> {
  let receipts: AuditReceipt[] | undefined;
  try {
    receipts = await deps.audit.appendMany(outcomes.map((o) => o.event));
  } catch {
    receipts = undefined;
  }
  if (receipts !== undefined) {
    outcomes.forEach((o, i) => o.settle(receipts[i] as AuditReceipt));
    return;
  }
  for (const outcome of outcomes) {
    let receipt: AuditReceipt;
    try {
      receipt = await deps.audit.append(outcome.event);
    } catch (cause) {
      await outcome.failed(cause);
      continue;
    }
    outcome.settle(receipt);
  }
}

function queueRejection(deps: PredictDependencies, queue: (outcome: QueuedOutcome) => void, pending: Pending): void {
  queueOutcome(deps, queue, pending, 'rejected', [], async (cause) => {
    // As when the rejection was appended on its own inside the frame's try: the failure is the frame's error.
    pending.slot.result = await recordError(deps, pending.file, pending.frameIndex, pending.studyKey, cause, 'decode');
  });
}

/** Queues the outcome's audit entry; the result that reports it is built once the entry is durable. */
function queueOutcome(
  deps: PredictDependencies,
  queue: (outcome: QueuedOutcome) => void,
  pending: Pending,
  status: 'decided' | 'rejected',
  outputs: readonly FindingOutput[],
  failed: (cause: unknown) => Promise<void> = (cause) => Promise.reject(cause instanceof Error ? cause : new Error(String(cause))),
): void {
  queue({
    event: {
      type: 'decision',
      status,
      studyKey: pending.studyKey,
      pixelSha256: pending.pixelSha256,
      frameIndex: pending.frameIndex ?? 0,
      model: deps.chain.bundle.identity,
      configHash: deps.configHash,
      origin: deps.origin,
      ...(deps.site === undefined ? {} : { site: deps.site }),
      gate: auditedGate(pending.gate),
      outputs,
    },
    settle(receipt) {
      pending.slot.result = {
        input: { file: pending.file.path, frame: pending.frameIndex },
        studyKey: pending.studyKey,
        status,
        quality: qualityOf(pending.gate),
        outputs,
        model: deps.chain.bundle.identity,
        auditId: receipt.auditId,
        image: pending.image,
        ...(pending.measures === undefined ? {} : { measures: pending.measures }),
      };
    },
    failed,
  });
}

async function inferBatch(deps: PredictDependencies, batch: readonly Pending[], queue: (outcome: QueuedOutcome) => void): Promise<void> {
  const started = performance.now();
  let scored: Awaited<ReturnType<InferenceChain['inferImages']>>;
  try {
    scored = await deps.chain.inferImages(batch);
  } catch (cause) {
    for (const p of batch) queueError(deps, queue, p.slot, p.file, p.frameIndex, p.studyKey, cause, 'infer');
    return;
  }
  deps.logger.debug({ batchSize: batch.length, durationMs: performance.now() - started, model: deps.chain.bundle.manifest.id }, 'batch inferred');
  for (const [b, pending] of batch.entries()) {
    const findings = (scored[b]?.findings ?? []).map(({ finding, probability, decision }): FindingOutput => ({ finding, probability, decision }));
    const embedding = scored[b]?.embedding ?? null;
    const measured = pending.measures === undefined || embedding === null ? pending : { ...pending, measures: { ...pending.measures, embedding } };
    queueOutcome(deps, queue, measured, 'decided', findings);
  }
}

/** Logs an input's failure and queues its audit entry; the error result is set once the entry is durable. */
function queueError(
  deps: PredictDependencies,
  queue: (outcome: QueuedOutcome) => void,
  slot: Slot,
  file: InputFile,
  frameIndex: number | null,
  studyKey: string | null,
  cause: unknown,
  stage: string,
): void {
  const error = logInputFailure(deps, studyKey, cause, stage);
  queue({
    event: errorEvent(error, studyKey, stage, deps.origin),
    settle(receipt) {
      slot.result = errorResult(deps, file, frameIndex, studyKey, error, receipt.auditId);
    },
    failed(auditFailure) {
      // The audit log itself failing is not an input error: stop everything.
      return Promise.reject(toPlatformError(auditFailure, 'STORE_WRITE_FAILED', 'Could not append to the audit log'));
    },
  });
}

/** Logs an input's failure and appends its audit entry now (used when a group commit has failed). */
async function recordError(
  deps: PredictDependencies,
  file: InputFile,
  frameIndex: number | null,
  studyKey: string | null,
  cause: unknown,
  stage: string,
): Promise<PredictResult> {
  const error = logInputFailure(deps, studyKey, cause, stage);
  let auditId: string | null = null;
  try {
    auditId = (await deps.audit.append(errorEvent(error, studyKey, stage, deps.origin))).auditId;
  } catch (auditFailure) {
    // The audit log itself failing is not an input error: stop everything.
    throw toPlatformError(auditFailure, 'STORE_WRITE_FAILED', 'Could not append to the audit log');
  }
  return errorResult(deps, file, frameIndex, studyKey, error, auditId);
}

function logInputFailure(deps: PredictDependencies, studyKey: string | null, cause: unknown, stage: string): PlatformError {
  const error = toPlatformError(cause);
  // An input that fails is an outcome reported in its result line, not a fault of the system.
  deps.logger.info({ code: error.code, stage, ...(studyKey === null ? {} : { studyKey }) }, 'input failed');
  return error;
}

function errorEvent(error: PlatformError, studyKey: string | null, stage: string, origin: JudgementOrigin): AuditEvent {
  return { type: 'error', code: error.code, stage, origin, ...(studyKey === null ? {} : { studyKey }) };
}

function errorResult(
  deps: PredictDependencies,
  file: InputFile,
  frameIndex: number | null,
  studyKey: string | null,
  error: PlatformError,
  auditId: string | null,
): PredictResult {
  return {
    input: { file: file.path, frame: frameIndex },
    studyKey,
    status: 'error',
    quality: null,
    outputs: [],
    model: deps.chain.bundle.identity,
    auditId,
    error: { code: error.code, message: error.message },
  };
}
