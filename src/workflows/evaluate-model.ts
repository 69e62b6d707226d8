import type { ModelIdentity } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import {
  evaluateCriteria,
  overallCriteriaStatus,
  pairedBootstrapSettings,
  parseCriteria,
  type CriterionResult,
  type CriterionStatus,
  type PairedBootstrapComparison,
} from '../domain/evaluation/acceptance-criteria.js';
import { delongPaired } from '../domain/evaluation/delong.js';
import { pairedBootstrapAurocDifference } from '../domain/evaluation/paired-bootstrap.js';
import {
  DEFAULT_EVALUATION_OPTIONS,
  decideCases,
  evaluatePredictions,
  stratumScope,
  type AbstentionTarget,
  type Estimate,
  type EvaluationMetrics,
} from '../domain/evaluation/evaluate-predictions.js';
import { wilsonInterval } from '../domain/evaluation/proportions.js';
import { minimumBootstrapReplicates } from '../domain/evaluation/stratified-bootstrap.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { DecisionPolicy } from '../domain/model/model-manifest.js';
import type { Clock } from '../ports/clock.js';
import type { AuditCitation, EvaluationAuditTrail } from '../ports/evaluation-audit.js';
import type { ChartData, ChartRenderer, DatasetDeclaration, EvaluationDataSource, EvaluationOutput } from '../ports/evaluation-data.js';
import type { Hasher } from '../ports/hasher.js';
import type { ModelSession } from '../ports/model-runner.js';
import { ensureCriteriaRegistered } from './register-criteria.js';
import { renderReportHtml } from './render-report-html.js';
import { InferenceChain } from './inference-chain.js';
import type { InputKinds } from './input-kinds.js';
import { resolveDeclaration, scoreDataset, shiftSampleOf, type CaseGateReason, type ScoredCases } from './score-dataset.js';
import { compareDatasetShift, type ShiftComparison } from '../domain/drift/dataset-shift.js';

export interface EvaluateRequest {
  readonly out: string;
  /** With a model: a dataset spec. Without: a predictions file. */
  readonly modelDir?: string;
  readonly dataset?: string;
  readonly predictions?: string;
  readonly criteria?: string;
  readonly strata?: readonly string[];
  readonly referenceModelDir?: string;
  readonly referencePredictions?: string;
  readonly finding?: string;
  /** Deployment prevalence for PPV/NPV; default: the policy's, or the sample's for predictions. */
  readonly prevalence?: number;
  /** Operating threshold for a predictions file (default 0.5). A model is evaluated at its own policy: refused with --model. */
  readonly threshold?: number;
  readonly seed?: number;
  readonly replicates?: number;
  /**
   * What the dataset's images are (modality, body part, view, patient age), for PNG/JPEG files and
   * MedMNIST images, which cannot say it themselves; merged with the dataset's own sidecar declaration.
   */
  readonly declared?: RasterDeclaration;
}

export interface EvaluateDependencies {
  readonly data: EvaluationDataSource;
  readonly output: EvaluationOutput;
  readonly charts: ChartRenderer;
  readonly clock: Clock;
  /** The kinds of image file a dataset may hold (DICOM, PNG/JPEG). */
  readonly inputs: InputKinds;
  readonly hasher: Hasher;
  readonly audit: EvaluationAuditTrail;
  readonly batchSize: number;
  readonly vigilVersion: string;
  readonly openModel: (directory: string) => Promise<{ readonly bundle: ModelBundle; readonly session: ModelSession }>;
}

export const REPORT_SCHEMA = 'vigil-evaluation-report/2';
export const PREDICTIONS_FILE = 'predictions.jsonl';

export interface EvaluationReport {
  readonly schema: typeof REPORT_SCHEMA;
  readonly generatedAt: string;
  readonly vigilVersion: string;
  readonly model: (ModelIdentity & { readonly name: string; readonly calibration: string; readonly finding: string }) | null;
  readonly dataset: {
    readonly description: string;
    readonly sha256: string;
    readonly strataNotes: readonly string[];
    /** What the images were declared to be, and by whom; null when nothing was declared (the gate then saw undeclared images). */
    readonly declaration: DatasetDeclaration | null;
  };
  readonly criteria: {
    readonly sha256: string;
    readonly status: CriterionStatus;
    /** status === 'passed'. */
    readonly passed: boolean;
    /**
     * The audit entry that fixed the criteria; `before`: it came before this evaluation started;
     * `by`: appended by `vigil criteria register`, or at the start of an evaluation (an earlier one when `before`).
     */
    readonly registration: AuditCitation & { readonly before: boolean; readonly by: 'register' | 'evaluation' };
    readonly results: readonly CriterionResult[];
  } | null;
  /** The audit entry that opened this evaluation (its closing `evaluation_completed` entry holds this file's SHA-256). */
  readonly audit: { readonly evaluationStarted: AuditCitation };
  /** Per-case results beside this report. */
  readonly predictions: { readonly file: string; readonly sha256: string; readonly rows: number };
  readonly gate: {
    readonly total: number;
    readonly rejected: number;
    readonly warned: number;
    readonly failed: number;
    readonly rejectRate: Estimate;
    readonly reasons: Readonly<Record<string, number>>;
  } | null;
  /**
   * This model minus the reference on the same cases: `difference` and `pValue` by paired DeLong
   * (always), `pairedBootstrap` for each paired bootstrap a non-inferiority criterion asked for.
   */
  readonly comparison: {
    readonly reference: string;
    readonly difference: Estimate;
    readonly referenceAuroc: number;
    readonly pValue: number;
    /** log10 of the p-value, finite where the p-value underflows. */
    readonly log10PValue: number;
    readonly pairedBootstrap: readonly PairedBootstrapComparison[];
  } | null;
  /**
   * The evaluated images and outputs against the model version's reference distribution (its
   * validation data): per variable a binned chi-square test, Holm-adjusted, with effect sizes and a
   * verdict; or why no comparison was made (a predictions file, a bundle without a reference).
   */
  readonly shift: ShiftComparison;
  readonly metrics: EvaluationMetrics;
}

export interface EvaluateOutcome {
  readonly report: EvaluationReport;
  readonly files: readonly string[];
  /** The audit entry that closed the evaluation, with the SHA-256 of report.json and predictions.jsonl. */
  readonly completed: AuditCitation;
}

interface Prepared {
  readonly probabilities: Float64Array;
  readonly labels: Uint8Array;
  readonly ids: readonly string[];
  readonly rows: readonly number[];
  readonly strata: ReadonlyMap<string, readonly (string | null)[]>;
  readonly gateWarned?: Uint8Array;
  readonly scored?: ScoredCases;
  /** Indices into `scored` of the cases kept (all, unless a reference model's gate left some out). */
  readonly keep?: readonly number[];
}

/** One line of predictions.jsonl. */
interface PredictionLine {
  readonly row: number;
  readonly id: string;
  readonly label: 0 | 1;
  readonly strata: Readonly<Record<string, string | null>>;
  /** `evaluated`: in the metrics; the others say why not. */
  readonly status: 'evaluated' | 'gate_rejected' | 'unreadable' | 'not_paired';
  readonly gate: { readonly verdict: 'pass' | 'warn' | 'reject'; readonly reasons: readonly CaseGateReason[] } | null;
  readonly rawScore: number | null;
  readonly probability: number | null;
  readonly decision: 'positive' | 'negative' | 'refer' | null;
  readonly referenceProbability?: number;
  readonly error?: string;
}

/**
 * `vigil evaluate`: metrics with CIs, strata and criteria; writes report.json, report.html and
 * predictions.jsonl, and records the evaluation in the audit log. Criteria are registered
 * (`criteria_registered`) before the evaluation starts, if they were not already; the evaluation
 * opens with `evaluation_started` and closes with `evaluation_completed`, which holds the SHA-256
 * of report.json and predictions.jsonl.
 */
export async function evaluateModel(deps: EvaluateDependencies, request: EvaluateRequest): Promise<EvaluateOutcome> {
  const minimum = minimumBootstrapReplicates(0.95);
  if (request.replicates !== undefined && request.replicates < minimum) {
    throw new PlatformError(
      'CLI_USAGE',
      `--replicates must be at least ${minimum} for 95% percentile intervals (5 replicates beyond each end; with fewer, an end is the sample's extreme, not its 2.5th percentile)`,
      { replicates: request.replicates },
    );
  }
  // Before any case is scored: an --out that cannot be a folder is said now, not after the work.
  await deps.output.checkOutputFolder(request.out, { empty: false });
  if (request.modelDir !== undefined && request.threshold !== undefined) {
    throw new PlatformError(
      'CLI_USAGE',
      "--threshold applies to --predictions only: a model is evaluated at its bundle's decision policy (derive a bundle with another threshold with vigil policy)",
      {},
    );
  }
  const criteriaFile = request.criteria === undefined ? undefined : await deps.data.readText(request.criteria);
  // Parse the criteria before the (long) evaluation, so a typo fails fast and nothing is registered.
  const criteria = criteriaFile === undefined ? undefined : parseCriteria(criteriaFile.text);

  let prepared: Prepared;
  let model: EvaluationReport['model'] = null;
  let referenceIdentity: ModelIdentity | null = null;
  let datasetInfo: EvaluationReport['dataset'];
  let policy: {
    threshold: number;
    abstainBand: { low: number; high: number };
    onGateWarn: 'refer' | 'decide';
    prevalence: number;
    conformal?: DecisionPolicy['conformal'];
  } = {
    threshold: request.threshold ?? 0.5,
    abstainBand: { low: 0, high: 0 },
    onGateWarn: 'decide',
    prevalence: Number.NaN,
  };
  let reference: { name: string; scores: Float64Array } | undefined;
  let shift: ShiftComparison = {
    status: 'not_compared',
    reason: "A predictions file holds scores, not images: there is no image to compare with a model version's reference (evaluate with --model and --dataset).",
  };
  let started: AuditCitation | undefined;
  let registration: (AuditCitation & { before: boolean; by: 'register' | 'evaluation' }) | undefined;
  // Registration precedes the evaluation's own entry, and both precede the first case scored.
  const start = async (datasetSha256: string, identity: ModelIdentity | null, ref: ModelIdentity | null): Promise<void> => {
    if (criteriaFile !== undefined) {
      const r = await ensureCriteriaRegistered(deps.audit, criteriaFile, 'evaluation');
      registration = { auditId: r.auditId, time: r.time, before: !r.appended, by: r.registeredBy };
    }
    started = await deps.audit.append({
      type: 'evaluation_started',
      model: identity,
      referenceModel: ref,
      datasetSha256,
      criteriaSha256: criteriaFile?.sha256 ?? null,
      criteriaAuditId: registration?.auditId ?? null,
    });
  };

  if (request.modelDir !== undefined) {
    if (request.dataset === undefined) throw new PlatformError('CLI_USAGE', 'evaluate --model needs --dataset', {});
    const dataset = await deps.data.openDataset(request.dataset, request.strata === undefined ? {} : { strata: request.strata });
    const declaration = resolveDeclaration(dataset.declaration, request.declared);
    const { bundle, session } = await deps.openModel(request.modelDir);
    const ref = request.referenceModelDir === undefined ? undefined : await deps.openModel(request.referenceModelDir);
    referenceIdentity = ref === undefined ? null : ref.bundle.identity;
    await start(dataset.sha256, bundle.identity, referenceIdentity);
    const scoring = (b: ModelBundle, s: ModelSession) => ({
      inputs: deps.inputs,
      chain: new InferenceChain(b, s),
      batchSize: deps.batchSize,
      ...(declaration === undefined ? {} : { declared: declaration.values }),
    });
    const scored = await scoreDataset(scoring(bundle, session), dataset, request.finding);
    const p = bundle.manifest.decisionPolicy[scored.finding]!;
    policy = { threshold: p.threshold, abstainBand: p.abstainBand, onGateWarn: p.onGateWarn, prevalence: p.prevalence, conformal: p.conformal };
    model = { ...bundle.identity, name: bundle.manifest.name, calibration: bundle.manifest.calibration.method, finding: scored.finding };
    const referenceDistribution = bundle.manifest.referenceDistribution;
    shift =
      referenceDistribution === undefined
        ? {
            status: 'not_compared',
            reason:
              'The model bundle holds no reference distribution (referenceDistribution in vigil-model.json), so the evaluated set could not be compared with the data the model was validated on. Compute one on its validation data with vigil model reference.',
          }
        : compareDatasetShift(referenceDistribution, shiftSampleOf(scored, bundle), { sameData: referenceDistribution.source.sha256 === dataset.sha256 });
    datasetInfo = { description: dataset.description, sha256: dataset.sha256, strataNotes: dataset.strataNotes, declaration: declaration ?? null };
    prepared = {
      probabilities: scored.probabilities,
      labels: scored.labels,
      ids: scored.ids,
      rows: scored.rows,
      strata: scored.strata,
      gateWarned: scored.gateWarned,
      scored,
    };
    if (ref !== undefined) {
      const refScored = await scoreDataset(scoring(ref.bundle, ref.session), dataset, scored.finding);
      const byId = new Map(refScored.ids.map((id, i) => [id, refScored.probabilities[i]!]));
      // Pair on the cases both gates let through.
      const keep = scored.ids.map((id, i) => (byId.has(id) ? i : -1)).filter((i) => i >= 0);
      if (keep.length !== scored.ids.length) prepared = restrict(prepared, keep);
      reference = { name: `${ref.bundle.identity.id} ${ref.bundle.identity.version}`, scores: Float64Array.from(prepared.ids, (id) => byId.get(id)!) };
    }
  } else {
    if (request.predictions === undefined) throw new PlatformError('CLI_USAGE', 'evaluate needs --model with --dataset, or --predictions', {});
    const set = await deps.data.readPredictions(request.predictions, request.strata === undefined ? {} : { strata: request.strata });
    const strata = new Map(set.strataColumns.map((c) => [c, set.rows.map((r) => r.strata[c] ?? null)]));
    prepared = {
      probabilities: Float64Array.from(set.rows, (r) => r.score),
      labels: Uint8Array.from(set.rows, (r) => r.label),
      ids: set.rows.map((r, i) => r.id ?? String(i)),
      rows: set.rows.map((r) => r.line),
      strata,
    };
    datasetInfo = { description: set.description, sha256: set.sha256, strataNotes: [], declaration: null };
    if (request.referencePredictions !== undefined) {
      const ref = await deps.data.readPredictions(request.referencePredictions, {});
      const byId = new Map(ref.rows.map((r, i) => [r.id ?? String(i), r]));
      const scores = prepared.ids.map((id, i) => {
        const row = byId.get(id);
        if (row === undefined || row.label !== prepared.labels[i]) {
          throw new PlatformError(
            'EVAL_INSUFFICIENT_DATA',
            'The reference predictions do not pair with the cases (same ids, or the same order, and the same labels)',
            {},
          );
        }
        return row.score;
      });
      reference = { name: 'reference predictions', scores: Float64Array.from(scores) };
    }
    await start(set.sha256, null, null);
  }

  if (prepared.labels.length === 0) {
    throw new PlatformError(
      'EVAL_INSUFFICIENT_DATA',
      `No case reached the model (every image was rejected by the gate or unreadable): there is nothing to measure${undeclaredHint(prepared.scored?.gateReasonCounts ?? {})}`,
      {
        n: 0,
      },
    );
  }
  let positives = 0;
  for (const y of prepared.labels) positives += y;
  const prevalence = request.prevalence ?? (Number.isFinite(policy.prevalence) ? policy.prevalence : positives / prepared.labels.length);
  const abstentionTarget = targetOf(policy.conformal);
  const cases = {
    probability: prepared.probabilities,
    label: prepared.labels,
    strata: prepared.strata,
    ...(prepared.gateWarned === undefined ? {} : { gateWarned: prepared.gateWarned }),
  };
  const metrics = evaluatePredictions(cases, {
    ...DEFAULT_EVALUATION_OPTIONS,
    threshold: policy.threshold,
    abstainBand: policy.abstainBand,
    onGateWarn: policy.onGateWarn,
    prevalence,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.replicates === undefined ? {} : { replicates: request.replicates }),
    ...(abstentionTarget === undefined ? {} : { abstentionTarget }),
  });

  let comparison: EvaluationReport['comparison'] = null;
  if (reference !== undefined) {
    const d = delongPaired(prepared.probabilities, reference.scores, prepared.labels);
    const pairedBootstrap = pairedBootstrapSettings(criteria ?? [], metrics.options).map(({ replicates, seed }) => {
      const b = pairedBootstrapAurocDifference(prepared.probabilities, reference.scores, prepared.labels, { replicates, seed });
      return {
        replicates,
        seed,
        difference: {
          value: b.difference,
          ciLow: b.ciLow,
          ciHigh: b.ciHigh,
          method: `AUROC of this model minus the reference, on the same cases: paired bootstrap, ${replicates} replicates resampling cases within each label (the same cases for both models), seed ${seed}, percentile 95% interval`,
        },
      };
    });
    comparison = {
      reference: reference.name,
      difference: {
        value: d.difference,
        ciLow: d.ciLow,
        ciHigh: d.ciHigh,
        method: 'AUROC of this model minus the reference, on the same cases: paired DeLong (1988) 95% interval',
      },
      referenceAuroc: d.aurocB,
      pValue: d.pValue,
      log10PValue: d.log10PValue,
      pairedBootstrap,
    };
  }

  const scored = prepared.scored;
  const gate: EvaluationReport['gate'] =
    scored === undefined
      ? null
      : (() => {
          const ci = wilsonInterval(scored.rejected, scored.total);
          let warned = 0;
          for (const w of scored.gateWarned) warned += w;
          return {
            total: scored.total,
            rejected: scored.rejected,
            warned,
            failed: scored.failed,
            rejectRate: { value: scored.rejected / scored.total, ciLow: ci.low, ciHigh: ci.high, method: 'Wilson score 95% interval' },
            reasons: scored.gateReasonCounts,
          };
        })();

  const results =
    criteria === undefined
      ? undefined
      : evaluateCriteria(criteria, {
          metrics,
          ...(gate === null ? {} : { gateRejectRate: gate.rejectRate }),
          ...(comparison === null
            ? {}
            : { comparison: { reference: comparison.reference, difference: comparison.difference, pairedBootstrap: comparison.pairedBootstrap } }),
        });

  const decisions = decideCases(cases, policy);
  let rows = 0;
  const written = await deps.output.writeLines(
    request.out,
    PREDICTIONS_FILE,
    (function* () {
      for (const line of predictionLines(prepared, decisions, reference?.scores)) {
        rows++;
        yield JSON.stringify(line);
      }
    })(),
  );

  const status = results === undefined ? null : overallCriteriaStatus(results);
  const report: EvaluationReport = {
    schema: REPORT_SCHEMA,
    generatedAt: deps.clock.now().toISOString(),
    vigilVersion: deps.vigilVersion,
    model,
    dataset: datasetInfo,
    criteria:
      results === undefined || criteriaFile === undefined || registration === undefined || status === null
        ? null
        : { sha256: criteriaFile.sha256, status, passed: status === 'passed', registration, results },
    audit: { evaluationStarted: started! },
    predictions: { file: PREDICTIONS_FILE, sha256: written.sha256, rows },
    gate,
    comparison,
    shift,
    metrics,
  };
  const reportJson = JSON.stringify(report, null, 1) + '\n';
  const reportSha256 = deps.hasher.sha256Hex(reportJson);
  // The closing entry is appended before report.json is written: a report on disk always has its entry.
  const completed = await deps.audit.append({
    type: 'evaluation_completed',
    startedAuditId: started!.auditId,
    model: model === null ? null : { id: model.id, version: model.version, sha256: model.sha256 },
    datasetSha256: datasetInfo.sha256,
    criteriaSha256: criteriaFile?.sha256 ?? null,
    criteriaAuditId: registration?.auditId ?? null,
    reportSha256,
    predictionsSha256: written.sha256,
    cases: prepared.labels.length,
    criteria: status,
  });
  const charts = await Promise.all(chartsOf(report).map((c) => deps.charts.renderSvg(c)));
  const shiftCharts = await Promise.all(shiftChartsOf(report).map((c) => deps.charts.renderSvg(c)));
  const html = renderReportHtml(report, charts, { completed, reportSha256 }, shiftCharts);
  await deps.output.writeFiles(request.out, { 'report.json': reportJson, 'report.html': html });
  return { report, files: ['report.json', 'report.html', PREDICTIONS_FILE], completed };
}

function targetOf(conformal: DecisionPolicy['conformal']): AbstentionTarget | undefined {
  if (conformal === undefined) return undefined;
  return {
    ...(conformal.coverage === undefined ? {} : { coverage: conformal.coverage }),
    ...(conformal.classCoverage === undefined ? {} : { classCoverage: conformal.classCoverage }),
    ...(conformal.mondrian === undefined ? {} : { mondrianColumn: conformal.mondrian }),
    method: `${conformal.mondrian === undefined ? '' : `Mondrian by "${conformal.mondrian}", `}${conformal.classCoverage === undefined ? 'split conformal' : 'class-conditional split conformal'} (vigil policy, ${conformal.calibrationCases} calibration cases)`,
  };
}

/**
 * Every case of the dataset, in dataset order, with what happened to it: the cases in the metrics
 * with their raw score, calibrated probability, decision and gate verdict, and the cases left out
 * (rejected by the gate, unreadable, or without a reference score) with the reason. Ids and rows
 * are the dataset's own; nothing else identifies a case. A generator: a million cases are written
 * line by line, never held as objects all at once.
 */
/** The gate's reasons for a value the images do not carry, and how a dataset declares it. */
const UNDECLARED: Readonly<Record<string, string>> = {
  modality_undeclared: 'modality (--modality)',
  body_part_undeclared: 'body part (--body-part)',
  view_undeclared: 'view (--view)',
  patient_age_unknown: 'patient age (--patient-age-years N or A-B)',
};

/**
 * When the gate refused images for a value they do not declare (a PNG or an .npz carries no modality,
 * body part, view or age), what to declare: the flags, the API's `declared`, or a sidecar declaration.
 */
function undeclaredHint(reasonCounts: Readonly<Record<string, number>>): string {
  const missing = Object.keys(UNDECLARED).filter((code) => (reasonCounts[code] ?? 0) > 0);
  if (missing.length === 0) return '';
  return `. The images do not declare their ${missing.map((code) => UNDECLARED[code]).join(', ')}: declare what the dataset is with those options, "declared" over the API (docs/api.md), or a NAME.declaration.json beside an .npz (docs/evaluation.md)`;
}

function* predictionLines(prepared: Prepared, decisions: readonly string[], referenceScores: Float64Array | undefined): Generator<PredictionLine> {
  const scored = prepared.scored;
  if (scored === undefined) {
    const columns = [...prepared.strata.keys()];
    for (let i = 0; i < prepared.ids.length; i++) {
      yield {
        row: prepared.rows[i]!,
        id: prepared.ids[i]!,
        label: prepared.labels[i] === 1 ? 1 : 0,
        strata: Object.fromEntries(columns.map((c) => [c, prepared.strata.get(c)![i] ?? null])),
        status: 'evaluated',
        gate: null,
        rawScore: null,
        probability: prepared.probabilities[i]!,
        decision: decisions[i] as PredictionLine['decision'],
        ...(referenceScores === undefined ? {} : { referenceProbability: referenceScores[i]! }),
      };
    }
    return;
  }
  const columns = [...scored.strata.keys()];
  // Position of each scored case among the evaluated ones (−1: left out for want of a reference score).
  const evaluatedAt = new Int32Array(scored.ids.length).fill(-1);
  if (prepared.keep === undefined) evaluatedAt.forEach((_, i) => (evaluatedAt[i] = i));
  else prepared.keep.forEach((k, j) => (evaluatedAt[k] = j));
  const scoredLine = (i: number): PredictionLine => {
    const j = evaluatedAt[i]!;
    return {
      row: scored.rows[i]!,
      id: scored.ids[i]!,
      label: scored.labels[i] === 1 ? 1 : 0,
      strata: Object.fromEntries(columns.map((c) => [c, scored.strata.get(c)![i] ?? null])),
      status: j < 0 ? 'not_paired' : 'evaluated',
      gate: { verdict: scored.gateWarned[i] === 1 ? 'warn' : 'pass', reasons: scored.gateReasons[i]! },
      rawScore: scored.rawScores[i]!,
      probability: scored.probabilities[i]!,
      decision: j < 0 ? null : (decisions[j] as PredictionLine['decision']),
      ...(referenceScores === undefined || j < 0 ? {} : { referenceProbability: referenceScores[j]! }),
    };
  };
  const excludedLine = (e: ScoredCases['excluded'][number]): PredictionLine => ({
    row: e.row,
    id: e.id,
    label: e.label,
    strata: Object.fromEntries(columns.map((c) => [c, e.strata[c] ?? null])),
    status: e.gate === null ? 'unreadable' : 'gate_rejected',
    gate: e.gate,
    rawScore: null,
    probability: null,
    decision: null,
    ...(e.error === undefined ? {} : { error: e.error }),
  });
  // Both lists are in dataset order already: merge them by position.
  let i = 0;
  let k = 0;
  while (i < scored.ids.length || k < scored.excluded.length) {
    const e = scored.excluded[k];
    if (e !== undefined && (i >= scored.ids.length || e.seq < scored.seqs[i]!)) {
      yield excludedLine(e);
      k++;
    } else {
      yield scoredLine(i);
      i++;
    }
  }
}

function restrict(p: Prepared, keep: readonly number[]): Prepared {
  return {
    probabilities: Float64Array.from(keep, (i) => p.probabilities[i]!),
    labels: Uint8Array.from(keep, (i) => p.labels[i]!),
    ids: keep.map((i) => p.ids[i]!),
    rows: keep.map((i) => p.rows[i]!),
    strata: new Map([...p.strata].map(([c, v]) => [c, keep.map((i) => v[i]!)])),
    ...(p.gateWarned === undefined ? {} : { gateWarned: Uint8Array.from(keep, (i) => p.gateWarned![i]!) }),
    ...(p.scored === undefined ? {} : { scored: p.scored }),
    keep,
  };
}

type RocChart = Extract<ChartData, { kind: 'roc' }>;
type ReliabilityChart = Extract<ChartData, { kind: 'reliability' }>;

/** The ROC plot of a report's overall metrics (also drawn on the dashboard's model page, workflows/report-charts.ts). */
export function rocChartOf(o: {
  readonly auroc: Pick<Estimate, 'value' | 'notDefined'>;
  readonly roc: RocChart['curve'];
  readonly rocBand: RocChart['band'];
}): RocChart {
  return {
    kind: 'roc',
    title: o.auroc.notDefined === undefined ? `ROC curve (AUROC ${o.auroc.value.toFixed(3)}) with 95% bootstrap band` : `ROC curve: ${o.auroc.notDefined}`,
    curve: o.roc,
    band: o.rocBand,
  };
}

/** The reliability (calibration) plot of a report's overall metrics. */
export function reliabilityChartOf(
  o: { readonly ece: Pick<Estimate, 'value'>; readonly reliability: ReliabilityChart['bins'] },
  eceBins: number,
): ReliabilityChart {
  return { kind: 'reliability', title: `Reliability diagram (${eceBins} equal-width bins; ECE ${o.ece.value.toFixed(3)})`, bins: o.reliability };
}

/** The report's plots, as data: ROC with band, reliability, decision curve, forest plot, confusion matrix. */
export function chartsOf(report: EvaluationReport): ChartData[] {
  const o = report.metrics.overall;
  const defined = (e: Estimate): boolean => e.notDefined === undefined;
  return [
    rocChartOf(o),
    reliabilityChartOf(o, report.metrics.options.eceBins),
    { kind: 'decision-curve', title: 'Decision curve: net benefit by threshold probability', points: o.decisionCurve },
    {
      kind: 'forest',
      title: 'Sensitivity and specificity per stratum (95% Wilson intervals; dashed: overall; a metric a stratum does not define is left out)',
      rows: report.metrics.strata.flatMap((s) =>
        (['sensitivity', 'specificity'] as const)
          .filter((metric) => defined(s[metric]))
          .map((metric) => ({ stratum: stratumScope(s.column, s.level), metric, value: s[metric].value, low: s[metric].ciLow, high: s[metric].ciHigh })),
      ),
      overall: (['sensitivity', 'specificity'] as const).filter((metric) => defined(o[metric])).map((metric) => ({ metric, value: o[metric].value })),
    },
    { kind: 'confusion', title: `Confusion matrix at the operating threshold ${o.threshold.toPrecision(4)}`, ...o.confusion },
  ];
}

/** The shift section's plot: each tested variable's PSI, those that differ (Holm-adjusted) marked. Empty when nothing was compared. */
export function shiftChartsOf(report: EvaluationReport): ChartData[] {
  const shift = report.shift;
  if (shift.status !== 'compared') return [];
  return [
    {
      kind: 'shift',
      title: 'Dataset shift against the reference: PSI per variable (lines at 0.1 and 0.25)',
      rows: shift.rows.filter((r) => r.adjustedPValue !== null).map((r) => ({ variable: r.label, psi: r.psi, differs: r.differs })),
    },
    // The distributions behind the verdict: up to three variables that differ, largest PSI first.
    ...shift.rows
      .filter((r) => r.differs)
      .sort((a, b) => b.psi - a.psi)
      .slice(0, 3)
      .map((r): ChartData => {
        const nr = r.bins.reduce((a, b) => a + b.reference, 0);
        const ne = r.bins.reduce((a, b) => a + b.evaluated, 0);
        // Bins are labelled by the share of the reference below and within them ("10–15 %": the reference's
        // 10th to 15th percentiles), which reads the same for every variable; with no shift, each evaluated
        // bar would match its reference bar.
        let below = 0;
        const labels = r.bins.map((b) => {
          const from = below;
          below += b.reference / nr;
          return r.kind === 'rate' ? (b.upper === null ? 'yes' : 'no') : `${Math.round(100 * from)}–${Math.round(100 * below)} %`;
        });
        const bins = r.bins.map((b, i) => ({
          bin: labels.indexOf(labels[i]!) === i ? labels[i]! : `${labels[i]!} (${i + 1})`,
          reference: b.reference / nr,
          evaluated: b.evaluated / ne,
        }));
        return { kind: 'shift-bins', title: `${r.label}: reference against evaluated (PSI ${r.psi.toFixed(2)})`, bins };
      }),
  ];
}
