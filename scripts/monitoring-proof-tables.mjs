#!/usr/bin/env node
// Prints the Markdown tables of docs/monitoring.md from the proof's JSON:
//   node scripts/monitoring-proof-tables.mjs docs/monitoring-proof.json
import { readFileSync } from 'node:fs';

const r = JSON.parse(readFileSync(process.argv[2] ?? 'docs/monitoring-proof.json', 'utf8'));
const pct = (v) => `${Math.round(v * 100)} %`;
const out = [];
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
