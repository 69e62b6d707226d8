import { formatPValue } from '../../domain/evaluation/format-p-value.js';
import { minimumBootstrapReplicates } from '../../domain/evaluation/stratified-bootstrap.js';
import type { EvaluateRequest } from '../../workflows/evaluate-model.js';
import { EXIT_CRITERIA_FAILED, EXIT_CRITERIA_NOT_EVALUABLE, EXIT_OK } from '../exit-codes.js';
import { declarationArgs, DECLARATION_OPTIONS, numberOption, parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE =
  'evaluate (--model DIR --dataset medmnist:PATH:SPLIT[:part=K/M]|MANIFEST.csv|.jsonl | --predictions FILE.jsonl [--threshold T]) --out DIR [--criteria FILE] [--strata a,b] [--reference-model DIR | --reference-predictions FILE] [--prevalence P] [--seed N] [--replicates N] [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N|A-B] [--json]';

export const evaluateCommand: Command = {
  usage: `${USAGE}\n      metrics with 95% intervals, per stratum, against acceptance criteria; writes report.json, report.html and predictions.jsonl and records the evaluation in the audit log (exit 5 when a criterion fails, 6 when none failed but one could not be evaluated)`,
  async run(args, { io, services }) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        model: { type: 'string' },
        dataset: { type: 'string' },
        predictions: { type: 'string' },
        out: { type: 'string' },
        criteria: { type: 'string' },
        strata: { type: 'string' },
        'reference-model': { type: 'string' },
        'reference-predictions': { type: 'string' },
        prevalence: { type: 'string' },
        threshold: { type: 'string' },
        seed: { type: 'string' },
        replicates: { type: 'string' },
        finding: { type: 'string' },
        ...DECLARATION_OPTIONS,
        json: { type: 'boolean' },
      },
      USAGE,
    );
    if (positionals.length > 0) throw usageError('evaluate takes no positional arguments', USAGE);
    const out = stringOption(values.out);
    if (out === undefined) throw usageError('evaluate needs --out DIR', USAGE);
    const model = stringOption(values.model);
    const dataset = stringOption(values.dataset);
    const predictions = stringOption(values.predictions);
    if ((model === undefined) === (predictions === undefined)) throw usageError('give either --model with --dataset, or --predictions', USAGE);
    if (model !== undefined && dataset === undefined) throw usageError('--model needs --dataset', USAGE);
    const strata = stringOption(values.strata)
      ?.split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    const opt = (name: string): string | undefined => stringOption(values[name]);
    const prevalence = numberOption(values.prevalence, 'prevalence', USAGE, { min: 0, max: 1 });
    const threshold = numberOption(values.threshold, 'threshold', USAGE, { min: 0, max: 1 });
    // A model is judged at its bundle's decision policy: evaluating it at another threshold would
    // describe a configuration nobody deploys (derive one with `vigil policy` and evaluate that).
    if (threshold !== undefined && model !== undefined)
      throw usageError(
        "--threshold applies to --predictions only: a model is evaluated at its bundle's decision policy (derive another with vigil policy)",
        USAGE,
      );
    const seed = numberOption(values.seed, 'seed', USAGE, { min: 0, max: 2 ** 32 - 1, integer: true });
    const replicates = numberOption(values.replicates, 'replicates', USAGE, { min: minimumBootstrapReplicates(0.95), max: 100000, integer: true });
    const declared = declarationArgs(values, USAGE);
    const request: EvaluateRequest = {
      out,
      ...(model === undefined ? {} : { modelDir: model }),
      ...(dataset === undefined ? {} : { dataset }),
      ...(predictions === undefined ? {} : { predictions }),
      ...(opt('criteria') === undefined ? {} : { criteria: opt('criteria')! }),
      ...(strata === undefined ? {} : { strata }),
      ...(opt('reference-model') === undefined ? {} : { referenceModelDir: opt('reference-model')! }),
      ...(opt('reference-predictions') === undefined ? {} : { referencePredictions: opt('reference-predictions')! }),
      ...(opt('finding') === undefined ? {} : { finding: opt('finding')! }),
      ...(prevalence === undefined ? {} : { prevalence }),
      ...(threshold === undefined ? {} : { threshold }),
      ...(seed === undefined ? {} : { seed }),
      ...(replicates === undefined ? {} : { replicates }),
      ...(declared === undefined ? {} : { declared }),
    };
    const { report, completed } = await services().evaluate(request);
    const o = report.metrics.overall;
    const status = report.criteria?.status ?? null;
    if (values.json === true) {
      io.stdout(
        JSON.stringify({
          out,
          status,
          passed: report.criteria?.passed ?? null,
          criteria: report.criteria?.results ?? [],
          auroc: o.auroc,
          ece: o.ece,
          audit: {
            criteriaRegistration: report.criteria?.registration ?? null,
            evaluationStarted: report.audit.evaluationStarted,
            evaluationCompleted: completed,
          },
        }) + '\n',
      );
    } else {
      const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
      const registration = report.criteria?.registration;
      const lines = [
        `${report.dataset.description}${report.gate === null ? '' : ` (${report.gate.rejected} rejected by the gate)`}: ${o.n} cases evaluated`,
        o.auroc.notDefined === undefined
          ? `AUROC ${f(o.auroc.value)} (95% CI ${f(o.auroc.ciLow)}–${f(o.auroc.ciHigh)}, DeLong; bootstrap ${f(o.aurocBootstrap.ciLow)}–${f(o.aurocBootstrap.ciHigh)})`
          : `AUROC ${o.auroc.notDefined}`,
        `at p >= ${o.threshold.toPrecision(4)}: sensitivity ${o.sensitivity.notDefined ?? `${f(o.sensitivity.value)} (${f(o.sensitivity.ciLow)}–${f(o.sensitivity.ciHigh)})`}, specificity ${o.specificity.notDefined ?? `${f(o.specificity.value)} (${f(o.specificity.ciLow)}–${f(o.specificity.ciHigh)})`}`,
        `Brier ${f(o.brier.value)}, ECE ${f(o.ece.value)} (${f(o.ece.ciLow)}–${f(o.ece.ciHigh)}), calibration slope ${o.calibrationSlope.notDefined ?? f(o.calibrationSlope.value)}, intercept ${o.calibrationIntercept.notDefined === undefined ? f(o.calibrationIntercept.value) : '—'}`,
        `referred ${f(o.referRate.value)}; error rate among the rest ${f(o.nonReferred.errorRate.value)} (${f(o.nonReferred.errorRate.ciLow)}–${f(o.nonReferred.errorRate.ciHigh)}); decided and wrong ${f(o.abstention.decidedWrong.value)} of all cases${
          o.abstention.checks.length === 0
            ? ''
            : ` (${o.abstention.checks.map((c) => `${c.rate} ${f(c.achieved.value)} against target ${f(c.target)}: ${c.verdict}`).join('; ')})`
        }`,
        ...(report.comparison === null
          ? []
          : [
              `AUROC minus ${report.comparison.reference}: ${f(report.comparison.difference.value)} (${f(report.comparison.difference.ciLow)}–${f(report.comparison.difference.ciHigh)}, paired DeLong; p = ${formatPValue(report.comparison.pValue, report.comparison.log10PValue)})`,
            ]),
        ...(report.criteria === null
          ? []
          : report.criteria.results.map(
              (r) => `${r.status === 'passed' ? 'PASS' : r.status === 'failed' ? 'FAIL' : 'NOT EVALUABLE'}  ${r.text}  — ${r.sentence}`,
            )),
        ...(registration === undefined
          ? []
          : [
              registration.before
                ? `criteria registered as ${registration.auditId} at ${registration.time}, before this evaluation${registration.by === 'evaluation' ? ' (at the start of an earlier evaluation run)' : ''}`
                : `criteria registered only at the start of this run (${registration.auditId}); register them earlier with: vigil criteria register FILE`,
            ]),
        `audit: evaluation ${report.audit.evaluationStarted.auditId} … ${completed.auditId}`,
        `report: ${out}/report.html, ${out}/report.json, ${out}/${report.predictions.file}`,
      ];
      io.stdout(lines.join('\n') + '\n');
    }
    return status === 'failed' ? EXIT_CRITERIA_FAILED : status === 'not_evaluable' ? EXIT_CRITERIA_NOT_EVALUABLE : EXIT_OK;
  },
};
