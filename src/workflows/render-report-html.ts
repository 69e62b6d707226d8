import type { Estimate } from '../domain/evaluation/evaluate-predictions.js';
import type { EvaluationReport } from './evaluate-model.js';

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const num = (x: number, digits = 3): string => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : '—');
const withCi = (e: Estimate | undefined, f: (x: number) => string = num): string =>
  e === undefined ? '—' : Number.isFinite(e.ciLow) ? `${f(e.value)} <span class="ci">(${f(e.ciLow)} to ${f(e.ciHigh)})</span>` : f(e.value);

/**
 * The report for a reader who is not an engineer: what was tested, on what, each criterion's
 * result in a sentence, then the plots and tables. One self-contained file: inline CSS and SVG,
 * no scripts, nothing fetched.
 */
export function renderReportHtml(report: EvaluationReport, chartSvgs: readonly string[]): string {
  const o = report.metrics.overall;
  const m = report.model;
  const criteria = report.criteria;
  const verdict =
    criteria === null
      ? '<p class="verdict none">No acceptance criteria were given, so this report states results without a pass or fail.</p>'
      : criteria.passed
        ? `<p class="verdict pass">All ${criteria.results.length} acceptance criteria were met.</p>`
        : `<p class="verdict fail">${criteria.results.filter((r) => !r.passed).length} of ${criteria.results.length} acceptance criteria were NOT met.</p>`;
  const gate = report.gate;
  const what = [
    m === null
      ? `Predictions supplied in a file (Vigil did not run the model), ${o.n} cases.`
      : `The model <b>${esc(m.name)}</b> (${esc(m.id)} ${esc(m.version)}, model file SHA-256 <code>${m.sha256.slice(0, 16)}…</code>), finding “${esc(m.finding)}”, probabilities calibrated by ${esc(m.calibration)} scaling.`,
    `Data: ${esc(report.dataset.description)} (content SHA-256 <code>${report.dataset.sha256.slice(0, 16)}…</code>). ${report.dataset.strataNotes.map(esc).join(' ')}`,
    gate === null
      ? ''
      : `Every image went through the same quality gate as in use: ${gate.rejected} of ${gate.total} were rejected (${pct(gate.rejectRate.value)}) and are not in the numbers below; ${gate.warned} were accepted with a warning${report.metrics.options.onGateWarn === 'refer' ? ' and count as referred to a human' : ''}; ${gate.failed} could not be read.`,
    `Evaluated: ${o.n} cases, ${o.positives} with the finding and ${o.negatives} without. A case is called positive when its probability is at least ${num(o.threshold, 4)}; it is referred to a human when its probability lies in [${num(o.abstainBand.low, 4)}, ${num(o.abstainBand.high, 4)}]${report.metrics.options.onGateWarn === 'refer' ? ' or the gate warned' : ''}.`,
  ]
    .filter((s) => s.length > 0)
    .map((s) => `<p>${s}</p>`)
    .join('\n');

  const criteriaRows =
    criteria === null
      ? ''
      : `<h2>Acceptance criteria</h2>
<p>Criteria file SHA-256 <code>${criteria.sha256}</code>, fixed before this evaluation.</p>
<table><tr><th>#</th><th>criterion</th><th>result</th><th>in words</th></tr>
${criteria.results
  .map(
    (r) =>
      `<tr><td>${r.line}</td><td><code>${esc(r.text)}</code></td><td class="${r.passed ? 'pass' : 'fail'}">${r.passed ? 'PASS' : 'FAIL'}</td><td>${esc(r.sentence)}</td></tr>`,
  )
  .join('\n')}</table>`;

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
    rows.push([
      `AUROC difference from ${esc(report.comparison.reference)} (reference AUROC ${num(report.comparison.referenceAuroc)})`,
      withCi(report.comparison.difference),
      report.comparison.difference.method,
    ]);
    for (const b of report.comparison.pairedBootstrap) {
      rows.push([
        `AUROC difference from ${esc(report.comparison.reference)}, paired bootstrap (${b.replicates} replicates, seed ${b.seed})`,
        withCi(b.difference),
        b.difference.method,
      ]);
    }
  }

  const strata = report.metrics.strata;
  const strataTable =
    strata.length === 0
      ? '<p>No strata were given.</p>'
      : `<table><tr><th>stratum</th><th>cases (with / without)</th><th>AUROC</th><th>sensitivity</th><th>specificity</th><th>ECE</th><th>referred</th><th>sensitivity − overall</th><th>specificity − overall</th></tr>
${strata
  .map((s) =>
    s.sufficient
      ? `<tr><td>${esc(s.column)} = ${esc(s.level)}</td><td>${s.n} (${s.positives} / ${s.negatives})</td><td>${withCi(s.auroc)}</td><td>${withCi(s.sensitivity, pct)}</td><td>${withCi(s.specificity, pct)}</td><td>${num(s.ece?.value ?? Number.NaN)}</td><td>${withCi(s.referRate, pct)}</td><td>${withCi(s.differenceFromOverall?.sensitivity, pct)}</td><td>${withCi(s.differenceFromOverall?.specificity, pct)}</td></tr>`
      : `<tr><td>${esc(s.column)} = ${esc(s.level)}</td><td>${s.n} (${s.positives} / ${s.negatives})</td><td colspan="7" class="warn">${esc(s.warning ?? '')}</td></tr>`,
  )
  .join('\n')}</table>`;

  const c = o.confusion;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation report${m === null ? '' : `: ${esc(m.id)} ${esc(m.version)}`}</title>
<style>
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:1em 0;font-size:0.92em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f3f3f3}.ci{color:#555;font-size:0.9em}.pass{color:#11693a;font-weight:bold}.fail{color:#b00020;font-weight:bold}.warn{color:#8a5a00}
.verdict{font-size:1.2em;padding:0.5em 0.8em;border-radius:4px}.verdict.pass{background:#e6f4ea}.verdict.fail{background:#fde7e9}.verdict.none{background:#f3f3f3}
.plots{display:flex;flex-wrap:wrap;gap:1em}.plots figure{margin:0}code{font-size:0.9em}small{color:#555}
</style></head><body>
<h1>Evaluation report${m === null ? '' : `: ${esc(m.name)}`}</h1>
<p><small>Generated ${esc(report.generatedAt)} by Vigil ${esc(report.vigilVersion)}. Numbers carry a 95% interval wherever one can be estimated, and the method of each is stated. Seed ${report.metrics.options.seed}; re-running gives the same numbers.</small></p>
${verdict}
<h2>What was tested, on what</h2>
${what}
${criteriaRows}
<h2>Results</h2>
<p>At the operating threshold: ${c.tp} true positives, ${c.fp} false positives, ${c.tn} true negatives, ${c.fn} false negatives.</p>
<table><tr><th>measure</th><th>value (95% interval)</th><th>method</th></tr>
${rows.map(([a, b, d]) => `<tr><td>${a}</td><td>${b}</td><td><small>${esc(d)}</small></td></tr>`).join('\n')}
</table>
<h2>Plots</h2>
<div class="plots">${chartSvgs.map((svg) => `<figure>${svg}</figure>`).join('\n')}</div>
<h2>Per stratum</h2>
<p>${esc(report.metrics.methods.strata ?? '')}. Differences from overall have stratified-bootstrap intervals; an interval that excludes 0 marks a stratum that really differs.</p>
${strataTable}
<h2>Methods</h2>
<ul>${Object.entries(report.metrics.methods)
    .map(([k, v]) => `<li><b>${esc(k)}</b>: ${esc(v)}</li>`)
    .join('')}</ul>
<p><small>report.json beside this file holds every number, its interval and its method.</small></p>
</body></html>
`;
}
