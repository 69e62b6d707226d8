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
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
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
    // Scored sources kept between runs while iterating (scoring all 20 sets takes minutes); never committed.
    cache: { type: 'string', default: '' },
    'score-only': { type: 'boolean', default: false },
    // Second round (docs/monitoring-proof-round2.json): designs against estimation error, reviews.
    round2: { type: 'boolean', default: false },
    'g-bootstraps': { type: 'string', default: '200' },
    'baseline-seeds': { type: 'string', default: '' },
    settings: { type: 'string' },
    parts: { type: 'string', default: 'fa,delays,reviews' },
    'review-or': { type: 'string', default: '2,4' },
    // Review sample rates of confident decisions the reviews part tries.
    'review-rates': { type: 'string', default: '0.05,0.1,0.2' },
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
  rev,
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
  dist('domain/monitoring/review-monitors.js'),
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
  // The reference label of every case (reviews in the proof: the reviewer reads the truth).
  return { n, columns: SIGNALS.map((s) => col[s.name]), labels: Float64Array.from(labels, (l) => (l === 1 ? 1 : 0)), summary: summarise(col, n) };
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

let sources;
if (args.cache !== '' && existsSync(args.cache)) {
  const cached = JSON.parse(readFileSync(args.cache, 'utf8'));
  sources = Object.fromEntries(
    Object.entries(cached).map(([k, v]) => [
      k,
      { ...v, columns: v.columns.map((c) => Float64Array.from(c, (x) => (x === null ? Number.NaN : x))), labels: Float64Array.from(v.labels) },
    ]),
  );
  log(`scored sources read from ${args.cache}`);
} else {
  log('scoring val and test through the chain…');
  sources = { val: await score(splits.val.images, splits.val.labels, 'val'), test: await score(splits.test.images, splits.test.labels, 'test') };
  for (const [name, shift] of Object.entries(SHIFTS)) {
    for (let level = 0; level < 3; level++) {
      const random = new SeededRandom(9000 + level);
      const images = [];
      for (const px of splits.val.images) images.push(await shift.apply(px, shift.levels[level], random));
      sources[`${name}-${level + 1}`] = await score(images, splits.val.labels, `${name} ${shift.levels[level]}`);
    }
    log(`  ${name}: scored 3 severities`);
  }
  if (args.cache !== '')
    writeFileSync(
      args.cache,
      JSON.stringify(
        Object.fromEntries(Object.entries(sources).map(([k, v]) => [k, { ...v, columns: v.columns.map((c) => Array.from(c)), labels: Array.from(v.labels) }])),
      ),
    );
}

if (args['score-only']) {
  await session.close?.();
  process.exit(0);
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
const basePlan = plan;
log(`designed ${plan.detectors.length} detectors in ${Math.round(designMs)} ms (detector ARL0 ${plan.detectorArl0})`);

/**
 * Fills `row` with case r of `src`: the plan's label-free signals, then (when the plan carries review
 * detectors, row longer than SIGNALS) the review columns: a confident decision (not referred, not
 * warned, not rejected) is reviewed with probability `reviewRate`; the reviewer reads the case's label
 * (reviews arrive with their case: same day); 1 when it contradicts the decision, NaN when not reviewed.
 */
function fillRow(row, src, r, reviewRate, random) {
  for (let s = 0; s < SIGNALS.length; s++) row[s] = src.columns[s][r];
  if (row.length === SIGNALS.length) return;
  row[SIGNALS.length] = Number.NaN;
  row[SIGNALS.length + 1] = Number.NaN;
  const positive = src.columns[POSITIVE][r];
  const confident = src.columns[REFERRED][r] === 0 && src.columns[WARNED][r] === 0 && (positive === 0 || positive === 1);
  if (!confident || !(random.nextFloat() < reviewRate)) return;
  const label = src.labels[r];
  if (positive === 1) row[SIGNALS.length] = label === 0 ? 1 : 0;
  else row[SIGNALS.length + 1] = label === 1 ? 1 : 0;
}
const POSITIVE = SIGNALS.findIndex((s) => s.name === 'positive');
const REFERRED = SIGNALS.findIndex((s) => s.name === 'referred');
const WARNED = SIGNALS.findIndex((s) => s.name === 'gateWarned');

/** Feeds `count` cases drawn (with replacement) from `rows` of `src` and returns the alerts. */
function feed(p, state, src, rows, count, random, alerts, reviewRate = 0) {
  const row = new Float64Array(p.signals.length);
  for (let c = 0; c < count; c++) {
    const r = rows[random.nextInt(rows.length)];
    fillRow(row, src, r, reviewRate, random);
    const raised = mon.updateMonitors(p, state, row);
    if (raised.length > 0) alerts.push(...raised);
  }
}
const allRows = (src) => Array.from({ length: src.n }, (_, i) => i);

// ---- Round 2 (--round2): designs against the reference's estimation error; detection from reviews ----
if (args.round2) {
  const G = { bootstraps: Number(args['g-bootstraps']), quantile: Number(args['guarantee-quantile']), seed: 4242 };
  const plainDesign = { falseAlarmDays: DAYS, casesPerDay: PER_DAY, referenceValue: Number(args.k) };
  const guaranteeDesign = { ...plainDesign, guarantee: G };
  const BASELINE_SEEDS = args['baseline-seeds'] === '' ? SEEDS : Number(args['baseline-seeds']);
  const REVIEW_FAMILY = SIGNALS.reduce((n, s) => n + s.directions.length, 0) + 2;
  const median = (xs) =>
    quantile(
      [...xs].sort((a, b) => a - b),
      0.5,
    );
  const halvesOf = (split) => {
    const random = new SeededRandom(50_000 + split);
    const order = allRows(sources.val);
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.nextInt(i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    return [order.slice(0, order.length >> 1), order.slice(order.length >> 1)];
  };
  /** The label-free plan on `rows` of val, with the two review detectors (confident positives / negatives) at `rate` when rate > 0. */
  const labelFreeMemo = new Map();
  function planOn(rows, d, rate = 0, oddsRatio = 2, memoKey = undefined) {
    const key = memoKey === undefined ? undefined : `${memoKey}|${rate > 0}|${d.guarantee === undefined}`;
    let p = key === undefined ? undefined : labelFreeMemo.get(key);
    if (p === undefined) {
      p = mon.designMonitors(referenceOf(sources.val, rows), rate > 0 ? { ...d, familyDetectors: REVIEW_FAMILY } : d);
      if (key !== undefined) labelFreeMemo.set(key, p);
    }
    if (!(rate > 0)) return p;
    const v = sources.val;
    const col = (i) => Float64Array.from(rows, (r) => v.columns[i][r]);
    const [pos, ref, warn] = [col(POSITIVE), col(REFERRED), col(WARNED)];
    const label = Float64Array.from(rows, (r) => v.labels[r]);
    const confident = (i) => ref[i] === 0 && warn[i] === 0;
    const strata = [
      rev.reviewStratumOf(
        'reviewWrong:confidentPositive',
        'reviewed confident positives read negative (false positives)',
        pos.map((x, i) => (confident(i) && x === 1 ? 1 : 0)),
        label.map((l) => (l === 0 ? 1 : 0)),
      ),
      rev.reviewStratumOf(
        'reviewWrong:confidentNegative',
        'reviewed confident negatives read positive (false negatives)',
        pos.map((x, i) => (confident(i) && x === 0 ? 1 : 0)),
        label.map((l) => (l === 1 ? 1 : 0)),
      ),
    ];
    const review = rev.designReviewMonitors(strata, {
      falseAlarmDays: DAYS,
      casesPerDay: PER_DAY,
      sampleRate: rate,
      familyDetectors: REVIEW_FAMILY,
      oddsRatio,
      ...(d.guarantee === undefined ? {} : { guarantee: d.guarantee }),
    });
    return rev.withReviewMonitors(p, review);
  }
  const summariseRun = (runs, extra) => {
    const total = runs.reduce((a, r) => a + r.totalAlarms, 0);
    const streams = runs.reduce((a, r) => a + r.streams, 0);
    const byDetector = {};
    for (const r of runs) for (const [k, v] of Object.entries(r.byDetector)) byDetector[k] = (byDetector[k] ?? 0) + v;
    return {
      ...extra,
      streams,
      totalAlarms: total,
      alarmsPer90Days: round(total / streams, 3),
      streamsWithAnyAlarm: runs.reduce((a, r) => a + r.streamsWithAnyAlarm, 0),
      byDetector: Object.fromEntries(Object.entries(byDetector).sort((a, b) => b[1] - a[1])),
    };
  };
  function crossFitted(name, d, rate = 0, oddsRatio = 2) {
    const runs = [];
    const ms = [];
    for (let split = 0; split < CROSSFIT_SPLITS; split++) {
      const [a, b] = halvesOf(split);
      const t0 = performance.now();
      const p = planOn(a, d, rate, oddsRatio, `split${split}`);
      ms.push(performance.now() - t0);
      runs.push(falseAlarms(p, sources.val, b, 4, 60_000 + split * 4, rate));
    }
    const r = summariseRun(runs, {
      ...(d.guarantee === undefined ? {} : { guaranteeQuantile: d.guarantee.quantile }),
      setting: `cross-fitted: designed on a random half of val (${a0()}), streams from the other half`,
      design: name,
      reviewRate: rate,
      splits: CROSSFIT_SPLITS,
      designMsMedian: round(median(ms), 0),
    });
    if (rate > 0) r.reviewOddsRatio = oddsRatio;
    log(
      `  ${name} cross-fitted${rate > 0 ? ` + reviews at ${rate} (OR ${oddsRatio})` : ''}: ${r.alarmsPer90Days} per 90 days (${r.totalAlarms} in ${r.streams}; design ${r.designMsMedian} ms)`,
    );
    return r;
  }
  const a0 = () => sources.val.n >> 1;
  /** Production baseline: each stream's first N cases (drawn from val) design the monitors, which then watch the next 90 days. */
  function baselineWindow(name, d, N) {
    const runs = [];
    const ms = [];
    for (let seed = 0; seed < BASELINE_SEEDS; seed++) {
      const random = new SeededRandom(80_000 + seed);
      const baseline = Array.from({ length: N }, () => random.nextInt(sources.val.n));
      const t0 = performance.now();
      const p = mon.designMonitors(referenceOf(sources.val, baseline), d);
      ms.push(performance.now() - t0);
      const alerts = [];
      feed(p, mon.createMonitorState(p), sources.val, allRows(sources.val), DAYS * PER_DAY, random, alerts);
      const byDetector = {};
      for (const al of alerts) byDetector[al.detector] = (byDetector[al.detector] ?? 0) + 1;
      runs.push({ streams: 1, totalAlarms: alerts.length, streamsWithAnyAlarm: alerts.length > 0 ? 1 : 0, byDetector });
    }
    const r = summariseRun(runs, {
      ...(d.guarantee === undefined ? {} : { guaranteeQuantile: d.guarantee.quantile }),
      setting: `production baseline: designed on the first ${N} cases of each stream, then 90 days watched`,
      design: name,
      baselineCases: N,
      designMsMedian: round(median(ms), 0),
    });
    log(`  ${name} baseline ${N}: ${r.alarmsPer90Days} per 90 days (${r.totalAlarms} in ${r.streams}; design ${r.designMsMedian} ms)`);
    return r;
  }
  const timing = {};
  let t1 = performance.now();
  const gPlan = mon.designMonitors(referenceOf(sources.val), guaranteeDesign);
  timing.guaranteeColdMs = round(performance.now() - t1, 0);
  t1 = performance.now();
  mon.designMonitors(referenceOf(sources.val), guaranteeDesign);
  timing.guaranteeWarmMs = round(performance.now() - t1, 0);
  t1 = performance.now();
  mon.designMonitors(referenceOf(sources.val), plainDesign);
  timing.plainMs = round(performance.now() - t1, 0);
  log(`design times: plain ${timing.plainMs} ms, guarantee ${timing.guaranteeColdMs} ms cold / ${timing.guaranteeWarmMs} ms warm`);

  log('false alarms by design…');
  const settings = (args.settings ?? 'cf-plain,cf-guarantee,bl1000-plain,bl1000-guarantee,bl2000-guarantee').split(',');
  const parts = args.parts.split(',');
  const falseAlarmsByDesign = [];
  for (const s of parts.includes('fa') ? settings : []) {
    const [where, how] = s.split('-');
    const d = how === 'plain' ? plainDesign : guaranteeDesign;
    falseAlarmsByDesign.push(where === 'cf' ? crossFitted(how, d) : baselineWindow(how, d, Number(where.slice(2))));
  }

  log('detection delay by design…');
  const names = Object.keys(sources).filter((n) => n !== 'val');
  const delayTable = (p) => [...names.map((n) => detection(n, p)), { ...detection('val', p), note: 'control: no shift; any "detection" is a false alarm' }];
  const blRandom = new SeededRandom(90_001);
  const blPlan = mon.designMonitors(
    referenceOf(
      sources.val,
      Array.from({ length: 1000 }, () => blRandom.nextInt(sources.val.n)),
    ),
    guaranteeDesign,
  );
  const delaysByDesign = parts.includes('delays')
    ? {
        guaranteeOnVal: delayTable(gPlan),
        guaranteeOnBaseline1000: delayTable(blPlan),
      }
    : {};
  for (const [k, rows] of Object.entries(delaysByDesign))
    log(`  ${k}: test median ${rows[0].medianDelayImages} images; gamma-1 ${rows.find((r) => r.source === 'gamma-1').medianDelayImages}`);

  log('detection from reviews…');
  const reviews = [];
  for (const oddsRatio of parts.includes('reviews') ? args['review-or'].split(',').map(Number) : [])
    for (const rate of args['review-rates'].split(',').map(Number)) {
      for (const [name, d] of [['guarantee', guaranteeDesign]]) {
        const p = planOn(allRows(sources.val), d, rate, oddsRatio, 'val');
        const det = ['test', 'gamma-1', 'val'].map((n) => detection(n, p, rate));
        const reviewDetectors = p.detectors.slice(-2).map((x) => ({
          id: x.id,
          p0: round(x.p0, 5),
          p1: round(x.p1, 5),
          h: round(x.h, 4),
          reviewArl0: Math.round(x.reviewArl0),
          reviewsPerCase: round(x.reviewsPerCase, 5),
          arl0Cases: Math.round(x.arl0),
        }));
        const fa = crossFitted(name, d, rate, oddsRatio);
        reviews.push({
          reviewRate: rate,
          reviewOddsRatio: oddsRatio,
          design: name,
          familyDetectors: REVIEW_FAMILY,
          reviewDetectors,
          detection: det,
          crossFittedFalseAlarms: fa,
        });
        log(
          `  rate ${rate} OR ${oddsRatio}: test median ${det[0].medianDelayImages} images (${det[0].medianDelayDays} d), ≤1 day ${det[0].withinOneDay}; first ${JSON.stringify(det[0].firstDetector)}`,
        );
      }
    }
  const out = {
    generatedBy: 'scripts/monitoring-proof.mjs --round2',
    data: 'PneumoniaMNIST (MedMNIST v2) val 524 / test 624 images, 28×28',
    model: `${bundle.manifest.id} ${bundle.manifest.version}`,
    target: `≤ 1 false alarm per ${DAYS} days at ${PER_DAY}/day`,
    guarantee: G,
    timing,
    seeds: SEEDS,
    baselineSeeds: BASELINE_SEEDS,
    detectors: {
      guaranteeOnVal: gPlan.detectors.map((d) => ({ id: d.id, h: round(d.h, 4), arl0: Math.round(d.arl0) })),
      plainOnVal: basePlan.detectors.map((d) => ({ id: d.id, h: round(d.h, 4), arl0: Math.round(d.arl0) })),
    },
    falseAlarmsByDesign,
    detection: { warmupCases: WARMUP, capCases: CAP, delaysByDesign },
    reviews,
    reviewAssumption:
      'reviews arrive with their case (same day); the reviewer reads the dataset label; confident decisions (not referred, not gate-warned or rejected) reviewed at the sample rate',
  };
  writeFileSync(args.out, `${JSON.stringify(out, null, 2)}\n`);
  log(`wrote ${args.out}`);
  await session.close?.();
  process.exit(0);
}

// ---- False alarms on in-distribution streams ----
function falseAlarms(p, src, rows, seeds, seedBase, reviewRate = 0) {
  const perSeed = [];
  const byDetector = {};
  for (let seed = 0; seed < seeds; seed++) {
    const alerts = [];
    feed(p, mon.createMonitorState(p), src, rows, DAYS * PER_DAY, new SeededRandom(seedBase + seed), alerts, reviewRate);
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
function detection(name, plan = basePlan, reviewRate = 0, seeds = SEEDS) {
  const src = sources[name];
  const delays = [];
  const first = {};
  const effects = [];
  let warmupAlarms = 0;
  for (let seed = 0; seed < seeds; seed++) {
    const random = new SeededRandom(100_000 + seed);
    const state = mon.createMonitorState(plan);
    const warm = [];
    feed(plan, state, sources.val, allRows(sources.val), WARMUP, random, warm, reviewRate);
    warmupAlarms += warm.length;
    const row = new Float64Array(plan.signals.length);
    let delay = Number.POSITIVE_INFINITY;
    for (let c = 1; c <= CAP; c++) {
      const r = random.nextInt(src.n);
      fillRow(row, src, r, reviewRate, random);
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
    seeds,
    detectedWithin100Days: detected,
    medianDelayImages: median,
    medianDelayDays: Number.isFinite(median) ? round(median / PER_DAY, 2) : null,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    withinOneDay: delays.filter((d) => d <= PER_DAY).length / seeds,
    withinOneWeek: delays.filter((d) => d <= 7 * PER_DAY).length / seeds,
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
