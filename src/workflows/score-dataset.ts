import { logit } from '../domain/calibration/calibrate.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import { formatPatientAgeYears, type ImageFrame, type RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { GateVerdict } from '../domain/quality/gate.js';
import { estimateNoiseSigma } from '../domain/quality/noise.js';
import { mahalanobisDistance } from '../domain/quality/ood.js';
import { outputsComputedUnder, SHIFT_FEATURES, shiftFeaturesOf, type ShiftSample } from '../domain/drift/dataset-shift.js';
import { decideCases } from '../domain/evaluation/evaluate-predictions.js';
import type { DatasetDeclaration, LabelledCase, LabelledDataset } from '../ports/evaluation-data.js';
import type { InferenceChain } from './inference-chain.js';
import type { InputKinds } from './input-kinds.js';

export interface ScoreDependencies {
  readonly inputs: InputKinds;
  /** The model version evaluated: the chain `vigil predict` and the server judge with. */
  readonly chain: InferenceChain;
  readonly batchSize: number;
  /**
   * What PNG/JPEG inputs and MedMNIST images are (they cannot say it themselves), as `vigil predict
   * --modality … --body-part … --view … --patient-age-years …`; DICOM inputs keep their own. Absent:
   * nothing is assumed, and the gate sees undeclared images.
   */
  readonly declared?: RasterDeclaration;
}

/** One of the gate's reasons about a case, by code, and whether it warned or rejected. */
export interface CaseGateReason {
  readonly code: string;
  readonly verdict: 'warn' | 'reject';
}

/** A case that did not reach the model: rejected by the gate, or unreadable. */
export interface ExcludedCase {
  /** Position in the dataset's order (0 … total − 1). */
  readonly seq: number;
  readonly id: string;
  readonly row: number;
  readonly label: 0 | 1;
  readonly strata: Readonly<Record<string, string>>;
  /** The gate's reasons when it rejected the case; null when the image could not be read. */
  readonly gate: { readonly verdict: 'reject'; readonly reasons: readonly CaseGateReason[] } | null;
  /** The error code when the image could not be read. */
  readonly error?: string;
}

/** A dataset judged by one model: the cases the gate let through, with raw and calibrated scores. */
export interface ScoredCases {
  readonly finding: string;
  readonly activation: 'logit' | 'probability';
  readonly ids: readonly string[];
  /** Each case's position in its source (LabelledCase.row) and in the dataset's order. */
  readonly rows: readonly number[];
  readonly seqs: readonly number[];
  readonly labels: Uint8Array;
  /** The model's raw output (a logit or a probability, per `activation`). */
  readonly rawScores: Float64Array;
  /** Calibrated with the bundle's own calibration. */
  readonly probabilities: Float64Array;
  readonly gateWarned: Uint8Array;
  /** The gate's reasons per case (empty when it passed). */
  readonly gateReasons: readonly (readonly CaseGateReason[])[];
  /** Stratum values per column; null where the case has none (missing). */
  readonly strata: ReadonlyMap<string, readonly (string | null)[]>;
  /** Cases counted before the gate. */
  readonly total: number;
  readonly rejected: number;
  /** Cases that could not be read or decoded. */
  readonly failed: number;
  /** Gate reasons behind rejections and warnings, by code. */
  readonly gateReasonCounts: Readonly<Record<string, number>>;
  /** The cases that did not reach the model, in dataset order. */
  readonly excluded: readonly ExcludedCase[];
  /**
   * Per SHIFT_FEATURES name, one value per readable image (those the gate rejected included), in
   * dataset order: what the dataset shift comparison and `vigil model reference` summarise.
   */
  readonly shiftFeatures: ReadonlyMap<string, Float64Array>;
  /**
   * Per case in dataset order (by seq), the model's embedding (the manifest's `embedding` output), null
   * for a case that did not reach the model; absent when the manifest declares no embedding.
   */
  readonly embeddings?: readonly (Float32Array | null)[];
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
  const finding = pickFinding(deps.chain.bundle, findingLabel);
  const ids: string[] = [];
  const rows: number[] = [];
  const seqs: number[] = [];
  const labels: number[] = [];
  const raw: number[] = [];
  const warned: number[] = [];
  const reasonsPerCase: CaseGateReason[][] = [];
  const strata = new Map<string, (string | null)[]>(dataset.strataColumns.map((c) => [c, []]));
  const gateReasonCounts: Record<string, number> = {};
  const excluded: ExcludedCase[] = [];
  let total = 0;
  let rejected = 0;
  let failed = 0;
  const probabilities: number[] = [];
  const embeddings: (Float32Array | null)[] = [];
  const shiftValues = new Map<string, number[]>(SHIFT_FEATURES.map(([name]) => [name, []]));
  let batch: { c: LabelledCase; seq: number; tensor: Float32Array; gate: GateVerdict; reasons: CaseGateReason[] }[] = [];

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const scored = await deps.chain.inferImages(batch);
    batch.forEach((b, i) => {
      const embedding = scored[i]?.embedding;
      if (embedding !== undefined && embedding !== null) embeddings[b.seq] = embedding;
      const s = scored[i]?.findings.find((f) => f.finding === finding.label);
      if (s === undefined) throw new PlatformError('MODEL_OUTPUT_INVALID', `The model gave no value for finding "${finding.label}"`, {});
      ids.push(b.c.id);
      rows.push(b.c.row);
      seqs.push(b.seq);
      labels.push(b.c.label);
      raw.push(s.raw);
      probabilities.push(s.probability);
      warned.push(b.gate.verdict === 'warn' ? 1 : 0);
      reasonsPerCase.push(b.reasons);
      for (const [column, values] of strata) values.push(b.c.strata[column] ?? null);
    });
    batch = [];
  };

  const age = deps.declared?.patientAgeYears;
  for await (const c of dataset.cases()) {
    const seq = total++;
    let frame: ImageFrame;
    try {
      frame = c.image.kind === 'frame' ? c.image.frame : await (await deps.inputs.open(c.image.bytes)).decodeFrame(0);
    } catch (cause) {
      // An unreadable image is counted, not fatal: the report states how many.
      excluded.push({ seq, id: c.id, row: c.row, label: c.label, strata: c.strata, gate: null, error: toPlatformError(cause).code });
      failed++;
      continue;
    }
    // The age as the dataset gives it per case, else as declared (raster images only): a DICOM file's
    // own age is not read here, so the gate reports it as unknown (an evaluation does not de-identify at a door).
    const caseAge = c.patientAgeYears ?? (frame.attributes.source === 'raster' ? age : undefined);
    const prepared = deps.chain.prepare(frame, caseAge, deps.declared);
    const { gate, tensor, features } = prepared;
    const shift = shiftFeaturesOf(features, {
      noise: estimateNoiseSigma(prepared.analysis, prepared.width, prepared.height),
      oodDistance: mahalanobisDistance(features, deps.chain.bundle.manifest.referenceStatistics),
      rows: frame.rows,
      columns: frame.columns,
    });
    for (const [name, values] of shiftValues) values.push(shift[name as keyof typeof shift]);
    for (const r of gate.reasons) gateReasonCounts[r.code] = (gateReasonCounts[r.code] ?? 0) + 1;
    const reasons = gate.reasons.map((r) => ({ code: r.code, verdict: r.verdict }));
    if (gate.verdict === 'reject') {
      excluded.push({ seq, id: c.id, row: c.row, label: c.label, strata: c.strata, gate: { verdict: 'reject', reasons } });
      rejected++;
      continue;
    }
    batch.push({ c, seq, tensor, gate, reasons });
    if (batch.length >= deps.batchSize) await flush();
  }
  await flush();

  const rawScores = Float64Array.from(raw);
  return {
    finding: finding.label,
    activation: finding.activation,
    ids,
    rows,
    seqs,
    labels: Uint8Array.from(labels),
    rawScores,
    probabilities: Float64Array.from(probabilities),
    gateWarned: Uint8Array.from(warned),
    gateReasons: reasonsPerCase,
    strata,
    total,
    rejected,
    failed,
    gateReasonCounts,
    excluded,
    shiftFeatures: new Map([...shiftValues].map(([name, values]) => [name, Float64Array.from(values)])),
    ...(deps.chain.bundle.manifest.embedding === undefined ? {} : { embeddings: Array.from({ length: total }, (_, seq) => embeddings[seq] ?? null) }),
  };
}

/**
 * What the dataset shift comparison sees of a scored dataset: every readable image's variables, the
 * gate's counts, and the model's calibrated probabilities and decisions (by the bundle's own policy,
 * gate warnings referred when it says so) on the images the gate let through.
 */
export function shiftSampleOf(scored: ScoredCases, bundle: ModelBundle): ShiftSample {
  const policy = bundle.manifest.decisionPolicy[scored.finding]!;
  const decisions = decideCases({ probability: scored.probabilities, label: scored.labels, strata: new Map(), gateWarned: scored.gateWarned }, policy);
  let warned = 0;
  for (const w of scored.gateWarned) warned += w;
  return {
    features: scored.shiftFeatures,
    gate: { n: scored.total - scored.failed, rejected: scored.rejected, warned },
    outputs: {
      finding: scored.finding,
      computedUnder: outputsComputedUnder(bundle.manifest.calibration, scored.finding, policy),
      probability: scored.probabilities,
      positive: decisions.filter((d) => d === 'positive').length,
      referred: decisions.filter((d) => d === 'refer').length,
    },
  };
}

/** The logit a parametric calibration works on. */
export function logitOf(score: number, activation: 'logit' | 'probability'): number {
  return activation === 'logit' ? score : logit(score);
}

const DECLARED_FIELDS = [
  ['modality', '--modality'],
  ['bodyPartExamined', '--body-part'],
  ['viewPosition', '--view'],
  ['patientAgeYears', '--patient-age-years'],
] as const;

/**
 * What the dataset's images are declared to be: the dataset's own declaration (a sidecar file)
 * and the command line's, merged; a value declared both ways must agree (DATASET_INVALID names
 * the field otherwise). Undefined when nothing is declared: nothing is assumed.
 */
export function resolveDeclaration(dataset: DatasetDeclaration | undefined, flags: RasterDeclaration | undefined): DatasetDeclaration | undefined {
  const given = flags !== undefined && DECLARED_FIELDS.some(([k]) => flags[k] !== undefined) ? flags : undefined;
  if (dataset === undefined) return given === undefined ? undefined : { values: normalise(given), source: 'command line' };
  if (given === undefined) return { values: normalise(dataset.values), source: dataset.source };
  const a = normalise(dataset.values);
  const b = normalise(given);
  for (const [key, flag] of DECLARED_FIELDS) {
    const av = a[key];
    const bv = b[key];
    const text = (v: (typeof a)[typeof key]): string => (typeof v === 'object' ? formatPatientAgeYears(v) : String(v));
    if (av !== undefined && bv !== undefined && text(av) !== text(bv)) {
      throw new PlatformError('DATASET_INVALID', `${flag} contradicts the dataset's own declaration (${dataset.source}): ${text(bv)} against ${text(av)}`, {});
    }
  }
  return { values: { ...a, ...b }, source: `${dataset.source} and the command line` };
}

function normalise(d: RasterDeclaration): RasterDeclaration {
  return {
    ...(d.modality === undefined ? {} : { modality: d.modality.toUpperCase() }),
    ...(d.bodyPartExamined === undefined ? {} : { bodyPartExamined: d.bodyPartExamined.toUpperCase() }),
    ...(d.viewPosition === undefined ? {} : { viewPosition: d.viewPosition.toUpperCase() }),
    ...(d.patientAgeYears === undefined ? {} : { patientAgeYears: d.patientAgeYears }),
  };
}
