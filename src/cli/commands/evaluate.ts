import type { RasterDeclaration } from '../../domain/image/image-frame.js';
import type { EvaluateRequest } from '../../workflows/evaluate-model.js';
import { EXIT_CRITERIA_FAILED, EXIT_OK } from '../exit-codes.js';
import { ageOption, numberOption, parseCommandArgs, stringOption, usageError, type Command } from './command.js';

const USAGE =
  'evaluate (--model DIR --dataset medmnist:PATH:SPLIT[:part=K/M]|MANIFEST.csv|.jsonl | --predictions FILE.jsonl) --out DIR [--criteria FILE] [--strata a,b] [--reference-model DIR | --reference-predictions FILE] [--prevalence P] [--threshold T] [--seed N] [--replicates N] [--finding LABEL] [--modality CR --body-part CHEST --view PA --patient-age-years N|A-B] [--json]';

export const evaluateCommand: Command = {
  usage: `${USAGE}\n      metrics with 95% intervals, per stratum, against acceptance criteria; writes report.json and report.html (exit 5 when a criterion fails)`,
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
        modality: { type: 'string' },
        'body-part': { type: 'string' },
        view: { type: 'string' },
        'patient-age-years': { type: 'string' },
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
    const seed = numberOption(values.seed, 'seed', USAGE, { min: 0, max: 2 ** 32 - 1, integer: true });
    const replicates = numberOption(values.replicates, 'replicates', USAGE, { min: 1, max: 100000, integer: true });
    const modality = opt('modality');
    const bodyPart = opt('body-part');
    const view = opt('view');
    const age = ageOption(values['patient-age-years'], 'patient-age-years', USAGE);
    const declared: RasterDeclaration | undefined =
      modality === undefined && bodyPart === undefined && view === undefined && age === undefined
        ? undefined
        : {
            ...(modality === undefined ? {} : { modality }),
            ...(bodyPart === undefined ? {} : { bodyPartExamined: bodyPart }),
            ...(view === undefined ? {} : { viewPosition: view }),
            ...(age === undefined ? {} : { patientAgeYears: age }),
          };
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
    const { report } = await services().evaluate(request);
    const o = report.metrics.overall;
    const failed = report.criteria !== null && !report.criteria.passed;
    if (values.json === true) {
      io.stdout(JSON.stringify({ out, passed: report.criteria?.passed ?? null, criteria: report.criteria?.results ?? [], auroc: o.auroc, ece: o.ece }) + '\n');
    } else {
      const f = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '—');
      const lines = [
        `${report.dataset.description}${report.gate === null ? '' : ` (${report.gate.rejected} rejected by the gate)`}: ${o.n} cases evaluated`,
        `AUROC ${f(o.auroc.value)} (95% CI ${f(o.auroc.ciLow)}–${f(o.auroc.ciHigh)}, DeLong; bootstrap ${f(o.aurocBootstrap.ciLow)}–${f(o.aurocBootstrap.ciHigh)})`,
        `at p >= ${o.threshold.toPrecision(4)}: sensitivity ${f(o.sensitivity.value)} (${f(o.sensitivity.ciLow)}–${f(o.sensitivity.ciHigh)}), specificity ${f(o.specificity.value)} (${f(o.specificity.ciLow)}–${f(o.specificity.ciHigh)})`,
        `Brier ${f(o.brier.value)}, ECE ${f(o.ece.value)} (${f(o.ece.ciLow)}–${f(o.ece.ciHigh)}), calibration slope ${f(o.calibrationSlope.value)}, intercept ${f(o.calibrationIntercept.value)}`,
        `referred ${f(o.referRate.value)}; error rate among the rest ${f(o.nonReferred.errorRate.value)} (${f(o.nonReferred.errorRate.ciLow)}–${f(o.nonReferred.errorRate.ciHigh)})`,
        ...(report.criteria === null ? [] : report.criteria.results.map((r) => `${r.passed ? 'PASS' : 'FAIL'}  ${r.text}  — ${r.sentence}`)),
        `report: ${out}/report.html, ${out}/report.json`,
      ];
      io.stdout(lines.join('\n') + '\n');
    }
    return failed ? EXIT_CRITERIA_FAILED : EXIT_OK;
  },
};
