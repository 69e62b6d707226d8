#!/usr/bin/env node
// Merges the parts of the second-round proof, run as separate processes (2 shared cores), into one JSON:
//   node scripts/monitoring-proof-merge.mjs OUT PART.json [PART.json …]
// falseAlarmsByDesign and reviews are concatenated; delay tables keyed by design and guarantee quantile.
import { readFileSync, writeFileSync } from 'node:fs';

const [out, ...parts] = process.argv.slice(2);
const merged = { falseAlarmsByDesign: [], detection: null, reviews: [], parts: [] };
for (const file of parts) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const q = p.guarantee.quantile;
  Object.assign(merged, { ...p, falseAlarmsByDesign: merged.falseAlarmsByDesign, detection: merged.detection, reviews: merged.reviews, parts: merged.parts });
  merged.parts.push({ guarantee: p.guarantee, seeds: p.seeds, baselineSeeds: p.baselineSeeds, timing: p.timing });
  merged.falseAlarmsByDesign.push(...p.falseAlarmsByDesign.map((f) => (f.design === 'guarantee' ? { guaranteeQuantile: q, ...f } : f)));
  merged.detection ??= { warmupCases: p.detection.warmupCases, capCases: p.detection.capCases, delaysByDesign: {} };
  for (const [k, v] of Object.entries(p.detection.delaysByDesign)) merged.detection.delaysByDesign[`${k} (q ${q})`] = v;
  merged.reviews.push(...p.reviews.map((r) => ({ ...r, guaranteeQuantile: q })));
}
delete merged.guarantee;
writeFileSync(out, `${JSON.stringify(merged, null, 2)}\n`);
