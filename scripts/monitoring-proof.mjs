#!/usr/bin/env node
// Proof on real data for the deployment monitors (issue 12 §6; docs/monitoring.md publishes its output).
//
//   npm run build && node scripts/monitoring-proof.mjs [--seeds 200] [--out docs/monitoring-proof.json]
//
// 1. Scores PneumoniaMNIST val (in distribution), test (the real source shift) and val under acquisition
//    shifts in the manner of MedMNIST-C (gamma, contrast, noise, blur, resolution, JPEG; three severities)
//    with the demo model through Vigil's own chain (workflows/score-dataset.ts → InferenceChain), and keeps
//    per case what the monitors watch: calibrated probability, positive / refer / gate-reject / gate-warn
//    indicators, and the gate's image features (mean, std, Laplacian variance, noise, OOD distance).
// 2. Designs the deployment's 16 one-sided CUSUMs from val at "one false alarm per 90 days at 200 a day"
//    (domain/monitoring/deployment-monitors.ts).
// 3. False alarms: bootstrap streams of val cases (rows resampled with replacement, so each case keeps its
//    own joint values), 90 days each, one stream per seed; the realised alarm count per 90 days.
//    Cross-fitted too: the monitors designed on one random half of val, streams drawn from the other half.
// 4. Detection delay: per seed, 1,000 in-distribution cases (5 days) then cases resampled from the shifted
//    set until the first alarm at or after the change (cap 100 days); the delay is the number of shifted
//    cases seen up to and including the alarm.
// Every random draw comes from the seeded generator of domain/evaluation/random.ts: reruns give the same tables.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import sharp from 'sharp';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const { values: args } = parseArgs({
  options: {
    seeds: { type: 'string', default: '200' },
    k: { type: 'string', default: '0.5' },
    // Bootstrap-guaranteed thresholds (Gandy & Kvaløy 2013): resamples of the reference, and the quantile of h.
    guarantee: { type: 'string', default: '0' },
    'guarantee-quantile': { type: 'string', default: '0.9' },
    'crossfit-splits': { type: 'string', default: '50' },
    out: { type: 'string', default: join(ROOT, 'docs', 'monitoring-proof.json') },
    data: { type: 'string', default: join(ROOT, '..', 'shared', 'data', 'medmnist', 'pneumoniamnist.npz') },
  },
});
const SEEDS = Number(args.seeds);
const CROSSFIT_SPLITS = Number(args['crossfit-splits']);
const DAYS = 90;
const PER_DAY = 200;
const WARMUP = 1000;
const CAP = 100 * PER_DAY;
const log = (m) => process.stderr.write(`[proof] ${m}\n`);

const [
  { FsModelBundleSource },
  { OnnxModelRunner },
  { InferenceChain },
  { scoreDataset },
  npz,
  { decideCases },
  mon,
  { SeededRandom },
  { rasterAttributes },
  { normalScore: normalScoreOf },
] = await Promise.all([
  dist('adapters/model-bundle-fs/fs-model-bundle-source.js'),
  dist('adapters/onnx-runtime/onnx-model-runner.js'),
  dist('workflows/inference-chain.js'),
  dist('workflows/score-dataset.js'),
  dist('adapters/dataset-medmnist/read-npz.js'),
  dist('domain/evaluation/evaluate-predictions.js'),
  dist('domain/monitoring/deployment-monitors.js'),
  dist('domain/evaluation/random.js'),
  dist('domain/image/image-frame.js'),
  dist('domain/monitoring/normal-score.js'),
]);

const bundle = await new FsModelBundleSource().loadBundle(join(ROOT, 'models', 'pneumonia-demo'));
const session = await new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 }).createSession(bundle);
const chain = new InferenceChain(bundle, session);
const bytes = readFileSync(args.data);
const splits = { val: npz.readMedmnistSplit(bytes, 'val'), test: npz.readMedmnistSplit(bytes, 'test') };
const { width, height } = splits.val;
const RASTER = rasterAttributes(1, 8, false);

// ---- Acquisition shifts on the 8-bit image, in the manner of MedMNIST-C (Di Salvo et al. 2024) ----
const clamp8 = (v) => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));
function gaussianKernel(sigma) {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const s = k.reduce((a, b) => a + b, 0);
  return { r, k: k.map((v) => v / s) };
}
function blur(px, sigma) {
  const { r, k } = gaussianKernel(sigma);
  const tmp = new Float64Array(px.length);
  const out = new Uint8Array(px.length);
  const at = (x, n) => (x < 0 ? -x - 1 : x >= n ? 2 * n - x - 1 : x); // reflect, as scipy.ndimage's default
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * px[y * width + at(x + i, width)];
      tmp[y * width + x] = s;
    }
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      let s = 0;
      for (let i = -r; i <= r; i++) s += k[i + r] * tmp[at(y + i, height) * width + x];
      out[y * width + x] = clamp8(s);
    }
  return out;
}
const raw = (px, w = width, h = height) => sharp(Buffer.from(px), { raw: { width: w, height: h, channels: 1 } });
async function gray(image) {
  const { data, info } = await image.raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 1) return new Uint8Array(data);
  const out = new Uint8Array(info.width * info.height);
  for (let i = 0; i < out.length; i++) out[i] = data[i * info.channels];
  return out;
}
const SHIFTS = {
  gamma: { param: 'γ', levels: [1.1, 1.25, 1.5], apply: (px, g) => px.map((v) => clamp8(255 * (v / 255) ** g)) },
  contrast: {
    param: 'c',
    levels: [0.85, 0.7, 0.5],
    apply: (px, c) => {
      let m = 0;
      for (const v of px) m += v;
      m /= px.length;
      return px.map((v) => clamp8((v - m) * c + m));
    },
  },
  noise: {
    param: 'σ (of full scale)',
    levels: [0.005, 0.01, 0.02],
    apply: (px, s, random) =>
      px.map((v) => clamp8(v + 255 * s * Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat()))),
  },
  blur: { param: 'σ (pixels)', levels: [0.3, 0.5, 0.75], apply: (px, s) => blur(px, s) },
  resolution: {
    param: 'scale',
    levels: [0.85, 0.7, 0.5],
    apply: async (px, f) => {
      const w = Math.max(2, Math.round(width * f));
      const h = Math.max(2, Math.round(height * f));
      const small = await gray(raw(px).resize(w, h, { kernel: 'cubic' }));
      return gray(raw(small, w, h).resize(width, height, { kernel: 'linear' }));
    },
  },
  jpeg: { param: 'quality', levels: [75, 50, 25], apply: async (px, q) => gray(sharp(await raw(px).jpeg({ quality: q }).toBuffer())) },
};

// ---- Scoring through the chain: per-case columns in the monitors' signal order ----
const SIGNALS = mon.DEFAULT_SIGNALS;
const policy = bundle.manifest.decisionPolicy.pneumonia;
async function score(images, labels, description) {
  const dataset = {
    description,
    sha256: '',
    count: images.length,
    strataColumns: [],
    strataNotes: [],
    async *cases() {
      for (let i = 0; i < images.length; i++) {
        const frame = { attributes: RASTER, frameIndex: 0, rows: height, columns: width, samplesPerPixel: 1, pixels: images[i] };
        yield { id: `${i}`, row: i, label: labels[i] === 1 ? 1 : 0, strata: {}, image: { kind: 'frame', frame } };
      }
    },
  };
  const scored = await scoreDataset({ inputs: undefined, chain, batchSize: 64, declared: npz.PNEUMONIAMNIST_DECLARATION }, dataset);
  const n = scored.total;
  const col = Object.fromEntries(SIGNALS.map((s) => [s.name, new Float64Array(n).fill(Number.NaN)]));
  for (const name of ['mean', 'std', 'laplacianVariance', 'noise', 'oodDistance']) col[name].set(scored.shiftFeatures.get(name));
  col.gateRejected.fill(0);
  col.gateWarned.fill(0);
  for (const e of scored.excluded) if (e.gate !== null) col.gateRejected[e.seq] = 1;
  const decisions = decideCases({ probability: scored.probabilities, label: scored.labels, strata: new Map(), gateWarned: scored.gateWarned }, policy);
  scored.seqs.forEach((seq, j) => {
    col.probability[seq] = scored.probabilities[j];
    col.positive[seq] = decisions[j] === 'positive' ? 1 : 0;
    col.referred[seq] = decisions[j] === 'refer' ? 1 : 0;
    col.gateWarned[seq] = scored.gateWarned[j];
  });
  return { n, columns: SIGNALS.map((s) => col[s.name]), summary: summarise(col, n) };
}
function summarise(col, n) {
  const meanOf = (a) => {
    let s = 0;
    let c = 0;
    for (const v of a)
      if (!Number.isNaN(v)) {
        s += v;
        c++;
      }
    return c === 0 ? null : round(s / c, 4);
  };
  return { n, ...Object.fromEntries(SIGNALS.map((s) => [s.name, meanOf(col[s.name])])) };
}
const round = (v, d = 2) => (v === null || !Number.isFinite(v) ? v : Math.round(v * 10 ** d) / 10 ** d);

log('scoring val and test through the chain…');
const sources = { val: await score(splits.val.images, splits.val.labels, 'val'), test: await score(splits.test.images, splits.test.labels, 'test') };
for (const [name, shift] of Object.entries(SHIFTS)) {
  for (let level = 0; level < 3; level++) {
    const random = new SeededRandom(9000 + level);
    const images = [];
    for (const px of splits.val.images) images.push(await shift.apply(px, shift.levels[level], random));
    sources[`${name}-${level + 1}`] = await score(images, splits.val.labels, `${name} ${shift.levels[level]}`);
  }
  log(`  ${name}: scored 3 severities`);
}

// ---- Monitors designed on val ----
const design = {
  falseAlarmDays: DAYS,
  casesPerDay: PER_DAY,
  referenceValue: Number(args.k),
  ...(Number(args.guarantee) > 0 ? { guarantee: { bootstraps: Number(args.guarantee), quantile: Number(args['guarantee-quantile']), seed: 4242 } } : {}),
};
const referenceOf = (src, rows) =>
  new Map(SIGNALS.map((s, i) => [s.name, rows === undefined ? src.columns[i] : Float64Array.from(rows, (r) => src.columns[i][r])]));
let t = performance.now();
const plan = mon.designMonitors(referenceOf(sources.val), design);
const designMs = performance.now() - t;
log(`designed ${plan.detectors.length} detectors in ${Math.round(designMs)} ms (detector ARL0 ${plan.detectorArl0})`);

/** Feeds `count` cases drawn (with replacement) from `rows` of `src` and returns the alerts. */
function feed(p, state, src, rows, count, random, alerts) {
  const row = new Float64Array(SIGNALS.length);
  for (let c = 0; c < count; c++) {
    const r = rows[random.nextInt(rows.length)];
    for (let s = 0; s < row.length; s++) row[s] = src.columns[s][r];
    const raised = mon.updateMonitors(p, state, row);
    if (raised.length > 0) alerts.push(...raised);
  }
}
const allRows = (src) => Array.from({ length: src.n }, (_, i) => i);

// ---- False alarms on in-distribution streams ----
function falseAlarms(p, src, rows, seeds, seedBase) {
  const perSeed = [];
  const byDetector = {};
  for (let seed = 0; seed < seeds; seed++) {
    const alerts = [];
    feed(p, mon.createMonitorState(p), src, rows, DAYS * PER_DAY, new SeededRandom(seedBase + seed), alerts);
    perSeed.push(alerts.length);
    for (const a of alerts) byDetector[a.detector] = (byDetector[a.detector] ?? 0) + 1;
  }
  const total = perSeed.reduce((a, b) => a + b, 0);
  return {
    streams: seeds,
    casesPerStream: DAYS * PER_DAY,
    totalAlarms: total,
    alarmsPer90Days: round(total / seeds, 3),
    streamsWithAnyAlarm: perSeed.filter((c) => c > 0).length,
    byDetector,
  };
}
log(`false alarms: ${SEEDS} bootstrap streams of ${DAYS * PER_DAY} val cases…`);
t = performance.now();
const inDistribution = falseAlarms(plan, sources.val, allRows(sources.val), SEEDS, 1);
log(`  ${inDistribution.totalAlarms} alarms in ${SEEDS} × 90 days (${inDistribution.alarmsPer90Days} per 90 days) in ${Math.round(performance.now() - t)} ms`);

log(`cross-fitted false alarms: ${CROSSFIT_SPLITS} random halves of val, 4 streams each…`);
const crossfit = { splits: CROSSFIT_SPLITS, streamsPerSplit: 4, totalAlarms: 0, streams: 0, byDetector: {} };
for (let split = 0; split < CROSSFIT_SPLITS; split++) {
  const random = new SeededRandom(50_000 + split);
  const order = allRows(sources.val);
  for (let i = order.length - 1; i > 0; i--) {
    const j = random.nextInt(i + 1);
    [order[i], order[j]] = [order[j], order[i]];
  }
  const half = order.length >> 1;
  const p = mon.designMonitors(referenceOf(sources.val, order.slice(0, half)), design);
  const r = falseAlarms(p, sources.val, order.slice(half), 4, 60_000 + split * 4);
  crossfit.totalAlarms += r.totalAlarms;
  crossfit.streams += r.streams;
  for (const [d, c] of Object.entries(r.byDetector)) crossfit.byDetector[d] = (crossfit.byDetector[d] ?? 0) + c;
}
crossfit.alarmsPer90Days = round(crossfit.totalAlarms / crossfit.streams, 3);
log(`  ${crossfit.totalAlarms} alarms in ${crossfit.streams} streams (${crossfit.alarmsPer90Days} per 90 days)`);

// ---- Detection delay ----
function quantile(sorted, q) {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (pos - lo);
}
function detection(name) {
  const src = sources[name];
  const delays = [];
  const first = {};
  const effects = [];
  let warmupAlarms = 0;
  for (let seed = 0; seed < SEEDS; seed++) {
    const random = new SeededRandom(100_000 + seed);
    const state = mon.createMonitorState(plan);
    const warm = [];
    feed(plan, state, sources.val, allRows(sources.val), WARMUP, random, warm);
    warmupAlarms += warm.length;
    const row = new Float64Array(SIGNALS.length);
    let delay = Number.POSITIVE_INFINITY;
    for (let c = 1; c <= CAP; c++) {
      const r = random.nextInt(src.n);
      for (let s = 0; s < row.length; s++) row[s] = src.columns[s][r];
      const raised = mon.updateMonitors(plan, state, row);
      if (raised.length > 0) {
        delay = c;
        const a = raised[0];
        first[a.detector] = (first[a.detector] ?? 0) + 1;
        effects.push(a.effect.kind === 'rate' ? a.effect.observed - a.effect.reference : a.effect.value);
        break;
      }
    }
    delays.push(delay);
  }
  const sorted = [...delays].sort((a, b) => a - b);
  const detected = delays.filter(Number.isFinite).length;
  const median = quantile(sorted, 0.5);
  // Effect per signal: the mean normal score against val for a continuous signal (0 in control, in
  // reference SDs), the rate for an indicator.
  const effect = Object.fromEntries(
    SIGNALS.map((sig, i) => {
      const scorer = plan.scorers[i];
      let sum = 0;
      let count = 0;
      for (const v of src.columns[i]) {
        if (Number.isNaN(v)) continue;
        sum += scorer === null ? v : normalScoreOf(scorer, v);
        count++;
      }
      return [sig.name, round(sum / count, 3)];
    }),
  );
  return {
    source: name,
    effect,
    seeds: SEEDS,
    detectedWithin100Days: detected,
    medianDelayImages: median,
    medianDelayDays: Number.isFinite(median) ? round(median / PER_DAY, 2) : null,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    withinOneDay: delays.filter((d) => d <= PER_DAY).length / SEEDS,
    withinOneWeek: delays.filter((d) => d <= 7 * PER_DAY).length / SEEDS,
    firstDetector: Object.fromEntries(Object.entries(first).sort((a, b) => b[1] - a[1])),
    warmupFalseAlarms: warmupAlarms,
  };
}
log('detection delays…');
const delays = [];
for (const name of Object.keys(sources).filter((n) => n !== 'val')) {
  delays.push(detection(name));
  const d = delays.at(-1);
  log(
    `  ${name}: median ${d.medianDelayImages} images (${d.medianDelayDays} d), ≤1 day ${d.withinOneDay}, ≤1 week ${d.withinOneWeek}, first ${Object.keys(d.firstDetector)[0]}`,
  );
}
// The in-distribution control through the same procedure: delays here are false alarms.
delays.push({ ...detection('val'), note: 'control: no shift; any "detection" is a false alarm' });

const result = {
  generatedBy: 'scripts/monitoring-proof.mjs',
  data: 'PneumoniaMNIST (MedMNIST v2) val 524 / test 624 images, 28×28',
  model: `${bundle.manifest.id} ${bundle.manifest.version}`,
  design: { ...plan.design, detectors: plan.detectors.length, familyArl0: plan.familyArl0, detectorArl0: plan.detectorArl0, designMs: round(designMs, 0) },
  detectors: plan.detectors.map((d) => ({
    id: d.id,
    h: round(d.h, 4),
    arl0: Math.round(d.arl0),
    ...(d.kind === 'indicator' ? { p0: round(d.p0, 5), p1: round(d.p1, 5) } : { k: d.k }),
  })),
  shifts: Object.fromEntries(Object.entries(SHIFTS).map(([k, s]) => [k, { param: s.param, levels: s.levels }])),
  falseAlarms: { target: `≤ 1 per ${DAYS} days at ${PER_DAY}/day`, inDistribution, crossFitted: crossfit },
  detection: { warmupCases: WARMUP, capCases: CAP, delays },
};
writeFileSync(args.out, `${JSON.stringify(result, null, 2)}\n`);
log(`wrote ${args.out}`);
await session.close?.();
