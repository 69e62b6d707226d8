import { formatPatientAgeYears } from '../domain/image/image-frame.js';
import { stratumScope, type AbstentionCheck, type AbstentionMetrics, type Estimate } from '../domain/evaluation/evaluate-predictions.js';
import { formatPValue } from '../domain/evaluation/format-p-value.js';
import type { AuditCitation } from '../ports/evaluation-audit.js';
import type { EvaluationReport } from './evaluate-model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const unbounded = (x: number): string => (x === Number.POSITIVE_INFINITY ? '∞' : x === Number.NEGATIVE_INFINITY ? '−∞' : '—');
const num = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : unbounded(x));
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : unbounded(x));
/** A value with its interval, or why the metric has no value here. */
const withCi = (e: Estimate | undefined, f: (x: number) => string = num): string =>
  e === undefined
    ? '—'
    : e.notDefined !== undefined
      ? `<span class="nd">${esc(e.notDefined)}</span>`
      : !Number.isNaN(e.ciLow)
        ? `${f(e.value)} <span class="ci">(${f(e.ciLow)} to ${f(e.ciHigh)})</span>`
        : f(e.value);

const STATUS_WORDS = { passed: 'PASS', failed: 'FAIL', not_evaluable: 'NOT EVALUABLE' } as const;
const RATE_WORDS = {
  decided_wrong_rate: 'decided and wrong, among all cases',
  missed_finding_rate: 'missed findings: decided negative, among cases with the finding',
  false_alarm_rate: 'false alarms: decided positive, among cases without the finding',
} as const;
const VERDICT_WORDS: Record<AbstentionCheck['verdict'], string> = {
  within: 'within the target',
  'above-within-interval': 'above the target, but the interval includes it',
  exceeded: 'EXCEEDS the target (the whole interval lies above it)',
  'not-defined': 'not defined here',
};

/**
 * The report for a reader who is not an engineer: what was tested, on what, each criterion's
 * result in a sentence, then the plots and tables. One self-contained file: inline CSS and SVG,
 * no scripts, nothing fetched. `audit` cites the entry that closed the evaluation (it holds the
 * SHA-256 of report.json, so it cannot be inside report.json itself).
 */
export function renderReportHtml(
  report: EvaluationReport,
  chartSvgs: readonly string[],
  audit: { readonly completed: AuditCitation; readonly reportSha256: string },
  shiftChartSvgs: readonly string[] = [],
): string {
  const o = report.metrics.overall;
  const m = report.model;
  const criteria = report.criteria;
  const verdict =
    criteria === null
      ? '<p class="verdict none">No acceptance criteria were given, so this report states results without a pass or fail.</p>'
      : criteria.status === 'passed'
        ? `<p class="verdict pass">All ${criteria.results.length} acceptance criteria were met.</p>`
        : criteria.status === 'failed'
          ? `<p class="verdict fail">${criteria.results.filter((r) => r.status === 'failed').length} of ${criteria.results.length} acceptance criteria were NOT met${
              criteria.results.some((r) => r.status === 'not_evaluable')
                ? `, and ${criteria.results.filter((r) => r.status === 'not_evaluable').length} could not be evaluated`
                : ''
            }.</p>`
          : `<p class="verdict fail">No criterion failed, but ${criteria.results.filter((r) => r.status === 'not_evaluable').length} of ${criteria.results.length} could not be evaluated on these cases: acceptance is not shown.</p>`;
  const gate = report.gate;
  const declaration = report.dataset.declaration;
  const declared =
    m === null
      ? ''
      : declaration === null
        ? 'Nothing was declared about what the images show (modality, body part, view, patient age): the gate judged them as undeclared images.'
        : `The images were declared (${esc(declaration.source)}) as ${[
            declaration.values.modality === undefined ? 'modality not declared' : `modality ${esc(declaration.values.modality)}`,
            declaration.values.bodyPartExamined === undefined ? 'body part not declared' : `body part ${esc(declaration.values.bodyPartExamined)}`,
            declaration.values.viewPosition === undefined ? 'view not declared' : `view ${esc(declaration.values.viewPosition)}`,
            declaration.values.patientAgeYears === undefined
              ? 'patient age not declared'
              : `patient age ${formatPatientAgeYears(declaration.values.patientAgeYears)} years`,
          ].join(', ')}; the gate checked that declaration against the model's intended use.`;
  const what = [
    m === null
      ? `Predictions supplied in a file (Vigil did not run the model), ${o.n} cases.`
      : `The model <b>${esc(m.name)}</b> (${esc(m.id)} ${esc(m.version)}, model file SHA-256 <code>${m.sha256.slice(0, 16)}…</code>), finding “${esc(m.finding)}”, probabilities calibrated by ${esc(m.calibration)} scaling.`,
    `Data: ${esc(report.dataset.description)} (content SHA-256 <code>${report.dataset.sha256.slice(0, 16)}…</code>). ${report.dataset.strataNotes.map(esc).join(' ')}`,
    declared,
    gate === null
      ? ''
      : `Every image went through the same quality gate as in use: ${gate.rejected} of ${gate.total} were rejected (${pct(gate.rejectRate.value)}) and are not in the numbers below; ${gate.warned} were accepted with a warning${report.metrics.options.onGateWarn === 'refer' ? ' and count as referred to a human' : ''}; ${gate.failed} could not be read.`,
    `Evaluated: ${o.n} cases, ${o.positives} with the finding and ${o.negatives} without. A case is called positive when its probability is at least ${num(o.threshold, 4)}; ${
      o.abstainBand.low < o.abstainBand.high
        ? `it is referred to a human when its probability lies in [${num(o.abstainBand.low, 4)}, ${num(o.abstainBand.high, 4)}]`
        : 'the decision policy has no abstain band'
    }${report.metrics.options.onGateWarn === 'refer' ? `${o.abstainBand.low < o.abstainBand.high ? ' or' : '; a case is referred when'} the gate warned` : ''}.`,
    `Every case, with its score, probability, decision and gate verdict, is in <code>${esc(report.predictions.file)}</code> beside this report (${report.predictions.rows} lines, SHA-256 <code>${report.predictions.sha256.slice(0, 16)}…</code>).`,
  ]
    .filter((s) => s.length > 0)
    .map((s) => `<p>${s}</p>`)
    .join('\n');

  const registration = criteria?.registration;
  const auditText = [
    registration === undefined
      ? ''
      : registration.before
        ? `The criteria file (SHA-256 <code>${criteria!.sha256}</code>) was registered in the audit log as <code>${esc(registration.auditId)}</code> at ${esc(registration.time)}${
            registration.by === 'register'
              ? ' by <code>vigil criteria register</code>'
              : ', at the start of an earlier evaluation run (whose results may have been seen)'
          }, before this evaluation started (<code>${esc(report.audit.evaluationStarted.auditId)}</code> at ${esc(report.audit.evaluationStarted.time)}).`
        : `<b>The criteria were registered only at the start of this evaluation run</b> (audit entry <code>${esc(registration.auditId)}</code> at ${esc(registration.time)}, SHA-256 <code>${criteria!.sha256}</code>): the audit log cannot show that they were fixed before results were seen. Register criteria with <code>vigil criteria register FILE</code> before evaluating.`,
    `This evaluation is in the audit log: started as <code>${esc(report.audit.evaluationStarted.auditId)}</code> at ${esc(report.audit.evaluationStarted.time)}, completed as <code>${esc(audit.completed.auditId)}</code> at ${esc(audit.completed.time)}, which records the SHA-256 of report.json (<code>${audit.reportSha256}</code>), of ${esc(report.predictions.file)}, of the data${criteria === null ? '' : ' and of the criteria'}. Check it with <code>vigil audit prove ${esc(audit.completed.auditId)}</code>.`,
  ]
    .filter((s) => s.length > 0)
    .map((s) => `<p>${s}</p>`)
    .join('\n');

  const criteriaRows =
    criteria === null
      ? ''
      : `<h2>Acceptance criteria</h2>
<table><tr><th>#</th><th>criterion</th><th>result</th><th>in words</th></tr>
${criteria.results
  .map(
    (r) =>
      `<tr><td>${r.line}</td><td><code>${esc(r.text)}</code></td><td class="${r.status === 'passed' ? 'pass' : r.status === 'failed' ? 'fail' : 'warn'}">${STATUS_WORDS[r.status]}</td><td>${esc(r.sentence)}</td></tr>`,
  )
  .join('\n')}</table>
<p><small>NOT EVALUABLE: the criterion had no number to be judged on (a metric these cases do not define, an interval that could not be estimated, a missing column, reference or target); it neither passes nor counts as a measured failure, and the evaluation exits with code 6 when nothing failed.</small></p>`;

  const rows: [string, string, string][] = [
    ['AUROC (ranking: chance that a case with the finding scores above one without)', withCi(o.auroc), o.auroc.method],
    ['AUROC, bootstrap interval', withCi(o.aurocBootstrap), o.aurocBootstrap.method],
    ['Sensitivity (cases with the finding called positive)', withCi(o.sensitivity, pct), o.sensitivity.method],
    ['Specificity (cases without it called negative)', withCi(o.specificity, pct), o.specificity.method],
    ['Positive predictive value in this sample', withCi(o.ppv, pct), o.ppv.method],
    ['Negative predictive value in this sample', withCi(o.npv, pct), o.npv.method],
    [`Positive predictive value at prevalence ${num(o.prevalence)}`, withCi(o.ppvAtPrevalence, pct), o.ppvAtPrevalence.method],
    [`Negative predictive value at prevalence ${num(o.prevalence)}`, withCi(o.npvAtPrevalence, pct), o.npvAtPrevalence.method],
    ['Brier score (0 is perfect)', withCi(o.brier), o.brier.method],
    ['Expected calibration error (0 is perfect)', withCi(o.ece), o.ece.method],
    ['Calibration slope (1 is ideal; below 1: over-confident)', withCi(o.calibrationSlope), o.calibrationSlope.method],
    ['Calibration intercept (0 is ideal)', withCi(o.calibrationIntercept), o.calibrationIntercept.method],
    ['Referred to a human', withCi(o.referRate, pct), o.referRate.method],
    ['Error rate among cases not referred', withCi(o.nonReferred.errorRate, pct), o.nonReferred.errorRate.method],
    ['Sensitivity among cases not referred', withCi(o.nonReferred.sensitivity, pct), o.nonReferred.sensitivity.method],
    ['Specificity among cases not referred', withCi(o.nonReferred.specificity, pct), o.nonReferred.specificity.method],
  ];
  if (report.comparison !== null) {
    const c = report.comparison;
    rows.push([
      `AUROC difference from ${esc(c.reference)} (reference AUROC ${num(c.referenceAuroc)}; two-sided p = ${formatPValue(c.pValue, c.log10PValue)})`,
      withCi(c.difference),
      `${c.difference.method}; p-value of no difference from the same statistic, erfc(|z|/√2)`,
    ]);
    for (const b of c.pairedBootstrap) {
      rows.push([
        `AUROC difference from ${esc(c.reference)}, paired bootstrap (${b.replicates} replicates, seed ${b.seed})`,
        withCi(b.difference),
        b.difference.method,
      ]);
    }
  }

  const abstention = abstentionSection(report);
  const strata = report.metrics.strata;
  const strataTable =
    strata.length === 0
      ? '<p>No strata were given.</p>'
      : `<table><tr><th>stratum</th><th>cases (with / without the finding)</th><th>AUROC</th><th>sensitivity</th><th>specificity</th><th>ECE</th><th>referred</th><th>decided and wrong</th><th>sensitivity − overall</th><th>specificity − overall</th></tr>
${strata
  .map(
    (s) =>
      `<tr><td>${esc(stratumScope(s.column, s.level))}${s.warning === undefined ? '' : `<br><small class="warn">${esc(s.warning)}</small>`}</td><td>${s.n} (${s.positives} / ${s.negatives})</td><td>${withCi(s.auroc)}</td><td>${withCi(s.sensitivity, pct)}</td><td>${withCi(s.specificity, pct)}</td><td>${num(s.ece.value)}</td><td>${withCi(s.referRate, pct)}</td><td>${withCi(s.abstention.decidedWrong, pct)}</td><td>${withCi(s.differenceFromOverall.sensitivity, pct)}</td><td>${withCi(s.differenceFromOverall.specificity, pct)}</td></tr>`,
  )
  .join('\n')}</table>`;

  const c = o.confusion;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation report${m === null ? '' : `: ${esc(m.id)} ${esc(m.version)}`}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.ci{color:#555;font-size:0.9em}.pass{color:#11693a;font-weight:bold}.fail{color:#b00020;font-weight:bold}.warn{color:#8a5a00}.nd{color:#555;font-style:italic}
.verdict{font-size:1.2em;padding:0.5em 0.8em;border-radius:4px}.verdict.pass{background:#e6f4ea}.verdict.fail{background:#fde7e9}.verdict.none{background:#f3f3f3}
.verdict.shift{background:#fff4e5}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots figure{margin:0}code{font-size:0.9em}small{color:#555}
</style></head><body>
<h1>Evaluation report${m === null ? '' : `: ${esc(m.name)}`}</h1>
<p><small>Generated ${esc(report.generatedAt)} by Vigil ${esc(report.vigilVersion)}. Numbers carry a 95% interval wherever one can be estimated, and the method of each is stated; a metric these cases cannot define says why. Seed ${report.metrics.options.seed}; re-running gives the same numbers.</small></p>
${verdict}
<h2>What was tested, on what</h2>
${what}
<h2>Audit trail</h2>
${auditText}
${criteriaRows}
<h2>Results</h2>
<p>At the operating threshold: ${c.tp} true positives, ${c.fp} false positives, ${c.tn} true negatives, ${c.fn} false negatives.</p>
<table><tr><th>measure</th><th>value (95% interval)</th><th>method</th></tr>
${rows.map(([a, b, d]) => `<tr><td>${a}</td><td>${b}</td><td><small>${esc(d)}</small></td></tr>`).join('\n')}
</table>
${abstention}
${shiftSection(report, shiftChartSvgs)}
<h2>Plots</h2>
<div class="plots">${chartSvgs.map((svg) => `<figure>${svg}</figure>`).join('\n')}</div>
<h2>Per stratum</h2>
<p>${esc(report.metrics.methods.strata ?? '')}. Differences from overall have stratified-bootstrap intervals; an interval that excludes 0 marks a stratum that really differs.</p>
${strataTable}
<h2>Methods</h2>
<ul>${Object.entries(report.metrics.methods)
    .map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`)
    .join('')}</ul>
<p><small>report.json beside this file holds every number, its interval and its method; ${esc(report.predictions.file)} every case.</small></p>
</body></html>
`;
}

/** The abstain band's target (when the bundle states one) against the rates achieved, overall and per stratum. */
function abstentionSection(report: EvaluationReport): string {
  const o = report.metrics.overall;
  const target = o.abstention.target;
  const rateRows = (scope: string, a: AbstentionMetrics): string =>
    (['decided_wrong_rate', 'missed_finding_rate', 'false_alarm_rate'] as const)
      .map((rate) => {
        const achieved = rate === 'decided_wrong_rate' ? a.decidedWrong : rate === 'missed_finding_rate' ? a.missedFinding : a.falseAlarm;
        const check = a.checks.find((k) => k.rate === rate);
        const cls = check?.verdict === 'exceeded' ? 'fail' : check?.verdict === 'within' ? 'pass' : 'warn';
        return `<tr><td>${esc(scope)}</td><td>${RATE_WORDS[rate]}</td><td>${withCi(achieved, pct)}</td><td>${check === undefined ? '—' : `at most ${pct(check.target)}`}</td><td${check === undefined ? '' : ` class="${cls}"`}>${
          check === undefined
            ? 'no target'
            : `${VERDICT_WORDS[check.verdict]}${check.guaranteed ? '' : ' (no guarantee at this scope: the band was not calibrated per stratum of this column)'}`
        }</td></tr>`;
      })
      .join('\n');
  const intro =
    target === null
      ? `<p>The decision policy states no conformal target for its abstain band, so the achieved rates below are reported without one.</p>`
      : `<p>The abstain band was fitted by ${esc(target.method)} with the target ${[
          target.coverage === undefined ? '' : `coverage ${target.coverage}: at most ${pct(1 - target.coverage)} of all cases decided and wrong`,
          target.classCoverage === undefined
            ? ''
            : `coverage ${target.classCoverage.positive} of cases with the finding (at most ${pct(1 - target.classCoverage.positive)} missed) and ${target.classCoverage.negative} of cases without (at most ${pct(1 - target.classCoverage.negative)} false alarms)`,
        ]
          .filter((x) => x.length > 0)
          .join(
            '; ',
          )}${target.mondrianColumn === undefined ? '' : `, within each stratum of "${esc(target.mondrianColumn)}"`}. The guarantee holds for cases exchangeable with its calibration cases; a rate above it on new data signals a shift.</p>`;
  return `<h2>Abstention: decided and wrong, against the target</h2>
${intro}
<table><tr><th>scope</th><th>rate</th><th>achieved (95% Wilson interval)</th><th>target</th><th>verdict</th></tr>
${rateRows('overall', { ...o.abstention })}
${report.metrics.strata.map((s) => rateRows(stratumScope(s.column, s.level), s.abstention)).join('\n')}
</table>`;
}

/** Dataset shift against the model version's reference: the verdict, then one row per variable. */
function shiftSection(report: EvaluationReport, svgs: readonly string[]): string {
  const shift = report.shift;
  if (shift.status === 'not_compared') {
    return `<h2>Dataset shift against the model's reference</h2>\n<p class="verdict none">Not compared. ${esc(shift.reason)}</p>`;
  }
  const fmtP = (p: number, log10: number): string => formatPValue(p, log10);
  const median = (r: (typeof shift.rows)[number]): string =>
    r.kind === 'rate'
      ? `${pct(r.referenceRate ?? Number.NaN)} → ${pct(r.evaluatedRate ?? Number.NaN)}`
      : `${(r.referenceMedian ?? Number.NaN).toPrecision(4)} → ${(r.evaluatedMedian ?? Number.NaN).toPrecision(4)}`;
  const rows = shift.rows
    .map(
      (r) =>
        `<tr${r.differs ? ' class="fail"' : ''}><td>${esc(r.label)}</td><td>${r.referenceN} / ${r.evaluatedN}</td><td>${median(r)}</td><td>${
          r.notTested === undefined ? `${num(r.statistic, 1)} (df ${r.df})` : `<span class="nd">${esc(r.notTested)}</span>`
        }</td><td>${r.notTested === undefined ? fmtP(r.pValue, r.log10PValue) : '—'}</td><td>${r.adjustedPValue === null ? '—' : fmtP(r.adjustedPValue, Math.log10(r.adjustedPValue))}</td><td>${num(r.psi, 3)}</td><td>${esc(r.effect)}</td></tr>`,
    )
    .join('\n');
  const source = shift.reference;
  return `<h2>Dataset shift against the model's reference</h2>
<p class="verdict ${shift.shifted ? 'shift' : 'none'}">${esc(shift.verdict)}</p>
<p>Reference: ${esc(source.dataset)} (${source.images} images, content SHA-256 <code>${source.sha256.slice(0, 16)}…</code>, declared ${esc(source.declaration)}), computed ${esc(source.computedAt)} by ${esc(source.computedBy)}.${
    shift.outputsNotCompared === undefined ? '' : ` The model's outputs were not compared: ${esc(shift.outputsNotCompared)}.`
  } A shift says the evaluated images are not like the validation images; it does not say the model is wrong on them — the metrics above do, where labels exist.</p>
<table><tr><th>variable</th><th>images (reference / evaluated)</th><th>median or rate (reference → evaluated)</th><th>χ² (df)</th><th>p</th><th>p, Holm-adjusted</th><th>PSI</th><th>effect</th></tr>
${rows}
</table>
<div class="plots">${svgs.map((svg) => `<figure>${svg}</figure>`).join('\n')}</div>
<p><small>${esc(shift.method)}</small></p>`;
}
