import type { ModelIdentity } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import {
  evaluateCriteria,
  pairedBootstrapSettings,
  parseCriteria,
  type CriterionResult,
  type PairedBootstrapComparison,
} from '../domain/evaluation/acceptance-criteria.js';
import { delongPaired } from '../domain/evaluation/delong.js';
import { pairedBootstrapAurocDifference } from '../domain/evaluation/paired-bootstrap.js';
import { DEFAULT_EVALUATION_OPTIONS, evaluatePredictions, type Estimate, type EvaluationMetrics } from '../domain/evaluation/evaluate-predictions.js';
import { wilsonInterval } from '../domain/evaluation/proportions.js';
import type { RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { Clock } from '../ports/clock.js';
import type { ChartData, ChartRenderer, EvaluationDataSource, EvaluationOutput } from '../ports/evaluation-data.js';
import type { DicomReader, RasterReader } from '../ports/image-readers.js';
import type { ModelSession } from '../ports/model-runner.js';
import { renderReportHtml } from './render-report-html.js';
import { scoreDataset, type ScoredCases } from './score-dataset.js';

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
  /** Operating threshold for predictions files (default 0.5); a model uses its policy. */
  readonly threshold?: number;
  readonly seed?: number;
  readonly replicates?: number;
  /** What PNG/JPEG images of a manifest are (modality, body part, view), as for `vigil predict`. */
  readonly declared?: RasterDeclaration;
}

export interface EvaluateDependencies {
  readonly data: EvaluationDataSource;
  readonly output: EvaluationOutput;
  readonly charts: ChartRenderer;
  readonly clock: Clock;
  readonly dicom: DicomReader;
  readonly raster: RasterReader;
  readonly batchSize: number;
  readonly vigilVersion: string;
  readonly openModel: (directory: string) => Promise<{ readonly bundle: ModelBundle; readonly session: ModelSession }>;
}

export interface EvaluationReport {
  readonly schema: 'vigil-evaluation-report/1';
  readonly generatedAt: string;
  readonly vigilVersion: string;
  readonly model: (ModelIdentity & { readonly name: string; readonly calibration: string; readonly finding: string }) | null;
  readonly dataset: { readonly description: string; readonly sha256: string; readonly strataNotes: readonly string[] };
  readonly criteria: { readonly sha256: string; readonly passed: boolean; readonly results: readonly CriterionResult[] } | null;
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
    readonly pairedBootstrap: readonly PairedBootstrapComparison[];
  } | null;
  readonly metrics: EvaluationMetrics;
}

export interface EvaluateOutcome {
  readonly report: EvaluationReport;
  readonly files: readonly string[];
}

interface Prepared {
  readonly probabilities: Float64Array;
  readonly labels: Uint8Array;
  readonly ids: readonly string[];
  readonly strata: ReadonlyMap<string, readonly string[]>;
  readonly gateWarned?: Uint8Array;
  readonly scored?: ScoredCases;
}

/** `vigil evaluate`: metrics with CIs, strata, criteria, and the two report files. */
export async function evaluateModel(deps: EvaluateDependencies, request: EvaluateRequest): Promise<EvaluateOutcome> {
  const criteriaText = request.criteria === undefined ? undefined : await deps.data.readText(request.criteria);
  // Parse the criteria before the (long) evaluation, so a typo fails fast.
  const criteria = criteriaText === undefined ? undefined : parseCriteria(criteriaText.text);

  let prepared: Prepared;
  let model: EvaluationReport['model'] = null;
  let datasetInfo: EvaluationReport['dataset'];
  let policy = { threshold: request.threshold ?? 0.5, abstainBand: { low: 0, high: 0 }, onGateWarn: 'decide' as 'refer' | 'decide', prevalence: Number.NaN };
  let reference: { name: string; scores: Float64Array } | undefined;

  if (request.modelDir !== undefined) {
    if (request.dataset === undefined) throw new PlatformError('CLI_USAGE', 'evaluate --model needs --dataset', {});
    const dataset = await deps.data.openDataset(request.dataset, request.strata === undefined ? {} : { strata: request.strata });
    const { bundle, session } = await deps.openModel(request.modelDir);
    const scored = await scoreDataset(
      {
        dicom: deps.dicom,
        raster: deps.raster,
        bundle,
        session,
        batchSize: deps.batchSize,
        ...(request.declared === undefined ? {} : { declared: request.declared }),
      },
      dataset,
      request.finding,
    );
    const p = bundle.manifest.decisionPolicy[scored.finding]!;
    policy = { threshold: p.threshold, abstainBand: p.abstainBand, onGateWarn: p.onGateWarn, prevalence: p.prevalence };
    model = { ...bundle.identity, name: bundle.manifest.name, calibration: bundle.manifest.calibration.method, finding: scored.finding };
    datasetInfo = { description: dataset.description, sha256: dataset.sha256, strataNotes: dataset.strataNotes };
    prepared = { probabilities: scored.probabilities, labels: scored.labels, ids: scored.ids, strata: scored.strata, gateWarned: scored.gateWarned, scored };
    if (request.referenceModelDir !== undefined) {
      const ref = await deps.openModel(request.referenceModelDir);
      const refScored = await scoreDataset(
        {
          dicom: deps.dicom,
          raster: deps.raster,
          bundle: ref.bundle,
          session: ref.session,
          batchSize: deps.batchSize,
          ...(request.declared === undefined ? {} : { declared: request.declared }),
        },
        dataset,
        scored.finding,
      );
      const byId = new Map(refScored.ids.map((id, i) => [id, refScored.probabilities[i]!]));
      // Pair on the cases both gates let through.
      const keep = scored.ids.map((id, i) => (byId.has(id) ? i : -1)).filter((i) => i >= 0);
      if (keep.length !== scored.ids.length) {
        prepared = restrict(prepared, keep);
      }
      reference = { name: `${ref.bundle.identity.id} ${ref.bundle.identity.version}`, scores: Float64Array.from(prepared.ids, (id) => byId.get(id)!) };
    }
  } else {
    if (request.predictions === undefined) throw new PlatformError('CLI_USAGE', 'evaluate needs --model with --dataset, or --predictions', {});
    const set = await deps.data.readPredictions(request.predictions, request.strata === undefined ? {} : { strata: request.strata });
    for (const r of set.rows) {
      if (r.score < 0 || r.score > 1) throw new PlatformError('DATASET_INVALID', 'Predictions must be probabilities in [0, 1] (calibrate scores first)', {});
    }
    const strata = new Map(set.strataColumns.map((c) => [c, set.rows.map((r) => r.strata[c] ?? '')]));
    prepared = {
      probabilities: Float64Array.from(set.rows, (r) => r.score),
      labels: Uint8Array.from(set.rows, (r) => r.label),
      ids: set.rows.map((r, i) => r.id ?? String(i)),
      strata,
    };
    datasetInfo = { description: set.description, sha256: set.sha256, strataNotes: [] };
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
  }

  let positives = 0;
  for (const y of prepared.labels) positives += y;
  if (positives === 0 || positives === prepared.labels.length) {
    throw new PlatformError('EVAL_INSUFFICIENT_DATA', 'The evaluated cases hold only one class: AUROC, sensitivity and specificity need both', {
      n: prepared.labels.length,
    });
  }
  const prevalence = request.prevalence ?? (Number.isFinite(policy.prevalence) ? policy.prevalence : positives / prepared.labels.length);
  const metrics = evaluatePredictions(
    {
      probability: prepared.probabilities,
      label: prepared.labels,
      strata: prepared.strata,
      ...(prepared.gateWarned === undefined ? {} : { gateWarned: prepared.gateWarned }),
    },
    {
      ...DEFAULT_EVALUATION_OPTIONS,
      threshold: policy.threshold,
      abstainBand: policy.abstainBand,
      onGateWarn: policy.onGateWarn,
      prevalence,
      ...(request.seed === undefined ? {} : { seed: request.seed }),
      ...(request.replicates === undefined ? {} : { replicates: request.replicates }),
    },
  );

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
            reasons: scored.gateReasons,
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

  const report: EvaluationReport = {
    schema: 'vigil-evaluation-report/1',
    generatedAt: deps.clock.now().toISOString(),
    vigilVersion: deps.vigilVersion,
    model,
    dataset: datasetInfo,
    criteria: results === undefined || criteriaText === undefined ? null : { sha256: criteriaText.sha256, passed: results.every((r) => r.passed), results },
    gate,
    comparison,
    metrics,
  };

  const charts = await Promise.all(chartsOf(report).map((c) => deps.charts.renderSvg(c)));
  const html = renderReportHtml(report, charts);
  await deps.output.writeFiles(request.out, { 'report.json': JSON.stringify(report, null, 1) + '\n', 'report.html': html });
  return { report, files: ['report.json', 'report.html'] };
}

function restrict(p: Prepared, keep: readonly number[]): Prepared {
  return {
    probabilities: Float64Array.from(keep, (i) => p.probabilities[i]!),
    labels: Uint8Array.from(keep, (i) => p.labels[i]!),
    ids: keep.map((i) => p.ids[i]!),
    strata: new Map([...p.strata].map(([c, v]) => [c, keep.map((i) => v[i]!)])),
    ...(p.gateWarned === undefined ? {} : { gateWarned: Uint8Array.from(keep, (i) => p.gateWarned![i]!) }),
    ...(p.scored === undefined ? {} : { scored: p.scored }),
  };
}

/** The report's plots, as data: ROC with band, reliability, decision curve, forest plot, confusion matrix. */
export function chartsOf(report: EvaluationReport): ChartData[] {
  const o = report.metrics.overall;
  const sufficient = report.metrics.strata.filter((s) => s.sufficient);
  return [
    { kind: 'roc', title: `ROC curve (AUROC ${o.auroc.value.toFixed(3)}) with 95% bootstrap band`, curve: o.roc, band: o.rocBand },
    {
      kind: 'reliability',
      title: `Reliability diagram (${report.metrics.options.eceBins} equal-width bins; ECE ${o.ece.value.toFixed(3)})`,
      bins: o.reliability,
    },
    { kind: 'decision-curve', title: 'Decision curve: net benefit by threshold probability', points: o.decisionCurve },
    {
      kind: 'forest',
      title: 'Sensitivity and specificity per stratum (95% Wilson intervals; dashed: overall)',
      rows: sufficient.flatMap((s) => [
        { stratum: `${s.column}=${s.level}`, metric: 'sensitivity', value: s.sensitivity!.value, low: s.sensitivity!.ciLow, high: s.sensitivity!.ciHigh },
        { stratum: `${s.column}=${s.level}`, metric: 'specificity', value: s.specificity!.value, low: s.specificity!.ciLow, high: s.specificity!.ciHigh },
      ]),
      overall: [
        { metric: 'sensitivity', value: o.sensitivity.value },
        { metric: 'specificity', value: o.specificity.value },
      ],
    },
    { kind: 'confusion', title: `Confusion matrix at the operating threshold ${o.threshold.toPrecision(4)}`, ...o.confusion },
  ];
}
