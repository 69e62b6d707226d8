#!/usr/bin/env node
// Prints the Markdown tables of docs/monitoring.md from the proof's JSON:
//   node scripts/monitoring-proof-tables.mjs docs/monitoring-proof.json
import { readFileSync } from 'node:fs';

const r = JSON.parse(readFileSync(process.argv[2] ?? 'docs/monitoring-proof.json', 'utf8'));
const pct = (v) => `${Math.round(v * 100)} %`;
const out = [];
if (r.generatedBy.includes('--round2')) {
  // Second round:  node scripts/monitoring-proof-tables.mjs docs/monitoring-proof-round2.json docs/monitoring-proof.json
  printRound2(r, process.argv[3] === undefined ? null : JSON.parse(readFileSync(process.argv[3], 'utf8')));
  process.exit(0);
}
out.push(
  `Design: ${r.design.detectors} one-sided CUSUMs, k = ${r.design.referenceValue}, indicator odds ratio ${r.design.indicatorOddsRatio}; family ARL₀ ${r.design.familyArl0} cases, each detector ${r.design.detectorArl0}.`,
  '',
);
out.push('| stream | severity | median delay (images) | IQR | median (days at 200/day) | ≤ 1 day | ≤ 1 week | detector first to alarm (share of seeds) |');
out.push('|---|---|---|---|---|---|---|---|');
for (const d of r.detection.delays) {
  const [name, level] = d.source.includes('-') ? d.source.split('-') : [d.source, null];
  const shift = r.shifts[name];
  const severity = level === null ? '–' : `${level} (${shift.param} ${shift.levels[Number(level) - 1]})`;
  const first = Object.entries(d.firstDetector)
    .slice(0, 2)
    .map(([k, v]) => `${k} ${pct(v / d.seeds)}`)
    .join(', ');
  const label = name === 'test' ? 'test split (real source shift)' : name === 'val' ? 'val (no shift: control)' : name;
  const med = Number.isFinite(d.medianDelayImages) ? d.medianDelayImages : `> ${r.detection.capCases}`;
  out.push(
    `| ${label} | ${severity} | ${med} | ${d.p25}–${Number.isFinite(d.p75) ? d.p75 : '>cap'} | ${d.medianDelayDays ?? '–'} | ${pct(d.withinOneDay)} | ${pct(d.withinOneWeek)} | ${first} |`,
  );
}
out.push('');
const f = r.falseAlarms;
out.push('| in-distribution streams | streams × days | false alarms | per 90 days (target ≤ 1) | streams with any alarm |');
out.push('|---|---|---|---|---|');
out.push(
  `| bootstrap of val, monitors designed on val | ${f.inDistribution.streams} × 90 | ${f.inDistribution.totalAlarms} | ${f.inDistribution.alarmsPer90Days} | ${f.inDistribution.streamsWithAnyAlarm} |`,
);
out.push(
  `| cross-fitted: designed on a random half of val, streams from the other half | ${f.crossFitted.streams} × 90 (${f.crossFitted.splits} splits) | ${f.crossFitted.totalAlarms} | ${f.crossFitted.alarmsPer90Days} | – |`,
);
out.push('');
out.push(
  'False alarms by detector (bootstrap of val): ' +
    Object.entries(f.inDistribution.byDetector)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
);
out.push(
  'False alarms by detector (cross-fitted): ' +
    Object.entries(f.crossFitted.byDetector)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${v}`)
      .join(', '),
);
out.push('');
out.push(
  '| signal | val | test | ' +
    Object.keys(r.shifts)
      .map((s) => `${s} 2`)
      .join(' | ') +
    ' |',
);
out.push('|---|' + '---|'.repeat(2 + Object.keys(r.shifts).length));
const bySource = Object.fromEntries(r.detection.delays.map((d) => [d.source, d.effect]));
for (const signal of Object.keys(bySource.val)) {
  out.push(
    `| ${signal} | ${bySource.val[signal]} | ${bySource.test[signal]} | ` +
      Object.keys(r.shifts)
        .map((s) => bySource[`${s}-2`][signal])
        .join(' | ') +
      ' |',
  );
}
process.stdout.write(`${out.join('\n')}\n`);

function printRound2(r, first) {
  const lines = [];
  const top = (byDetector, n = 3) =>
    Object.entries(byDetector)
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
  for (const part of r.parts ?? [{ guarantee: r.guarantee, timing: r.timing }]) {
    lines.push(
      `Guarantee: ${part.guarantee.bootstraps} bootstraps, quantile ${part.guarantee.quantile}. Design time (demo reference, 524 cases): plain ${part.timing.plainMs} ms, guaranteed ${part.timing.guaranteeColdMs} ms the first time for a reference size, ${part.timing.guaranteeWarmMs} ms after.`,
    );
  }
  lines.push('');
  lines.push(
    '| setting | design | streams × 90 days | false alarms | per 90 days (target ≤ 1) | streams with any alarm | design time (median) | most alarms |',
  );
  lines.push('|---|---|---|---|---|---|---|---|');
  for (const f of r.falseAlarmsByDesign) {
    const q = f.guaranteeQuantile === undefined ? '' : ` (q ${f.guaranteeQuantile})`;
    lines.push(
      `| ${f.setting} | ${f.design}${q} | ${f.streams} | ${f.totalAlarms} | **${f.alarmsPer90Days}** | ${f.streamsWithAnyAlarm} | ${f.designMsMedian} ms | ${top(f.byDetector)} |`,
    );
  }
  lines.push('');
  const designs = Object.keys(r.detection.delaysByDesign);
  if (designs.length > 0) {
    const plain = first === null ? null : Object.fromEntries(first.detection.delays.map((d) => [d.source, d]));
    lines.push(`| stream | ${plain === null ? '' : 'plain on val (round 1) | '}${designs.join(' | ')} |`);
    lines.push(`|---|${plain === null ? '' : '---|'}${designs.map(() => '---|').join('')}`);
    const cell = (d) =>
      Number.isFinite(d.medianDelayImages)
        ? `${d.medianDelayImages} (${d.medianDelayDays} d; ≤1 d ${pct(d.withinOneDay)}, ≤1 wk ${pct(d.withinOneWeek)})`
        : `> cap`;
    for (const d of r.detection.delaysByDesign[designs[0]]) {
      const row = [d.source];
      if (plain !== null) row.push(plain[d.source] === undefined ? '–' : cell(plain[d.source]));
      for (const k of designs) row.push(cell(r.detection.delaysByDesign[k].find((x) => x.source === d.source)));
      lines.push(`| ${row.join(' | ')} |`);
    }
    lines.push('');
  }
  if (r.reviews.length > 0) {
    lines.push(
      '| guarantee quantile | review sample rate | review chart tuned to OR | test split: median delay (images) | IQR | days at 200/day | ≤ 1 day | ≤ 1 week | first to alarm | gamma 1 median | control (val) median | cross-fitted false alarms per 90 days (with reviews) |',
    );
    lines.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
    for (const v of r.reviews) {
      const [test, gamma, val] = v.detection;
      const first = Object.entries(test.firstDetector)
        .slice(0, 2)
        .map(([k, c]) => `${k} ${pct(c / test.seeds)}`)
        .join(', ');
      lines.push(
        `| ${v.guaranteeQuantile ?? '–'} | ${v.reviewRate} | ${v.reviewOddsRatio} | **${test.medianDelayImages}** | ${test.p25}–${test.p75} | ${test.medianDelayDays} | ${pct(test.withinOneDay)} | ${pct(test.withinOneWeek)} | ${first} | ${gamma.medianDelayImages} | ${Number.isFinite(val.medianDelayImages) ? val.medianDelayImages : '> cap'} | ${v.crossFittedFalseAlarms.alarmsPer90Days} |`,
      );
    }
    lines.push('');
    lines.push(
      'Review detectors (p₀ from val labels; h in log-likelihood-ratio units; in-control ARL in reviews, under p₀): ' +
        r.reviews
          .map(
            (v) =>
              `q ${v.guaranteeQuantile ?? '–'} rate ${v.reviewRate} OR ${v.reviewOddsRatio}: ` +
              v.reviewDetectors.map((d) => `${d.id} p₀ ${d.p0} p₁ ${d.p1} h ${d.h} ARL ${d.reviewArl0}`).join('; '),
          )
          .join(' · '),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}
