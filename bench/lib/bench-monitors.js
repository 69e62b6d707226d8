/**
 * Monitoring benchmark (issue 12 §7): every monitor of one deployment (the 16 one-sided CUSUMs of
 * domain/monitoring/deployment-monitors.ts DEFAULT_SIGNALS) recomputed over 1,000,000 stored per-case
 * values, and the incremental update per case, Vigil (dist/, one thread) beside numpy/scipy doing the
 * same on the same data in the same run (bench/monitors-peer.py, /usr/bin/python3): vectorised
 * recompute (Lindley identity on cumulative sums) and per-case updates in plain Python.
 * Ratios are peer ÷ Vigil (> 1: Vigil faster). The cases are bootstrap draws from a synthetic reference
 * of 524 cases (the demo model's val size), so alarms are rare, as in production.
 *
 * Contract: `await benchMonitors({ quick?, log?, n?, seed? })` resolves to a plain JSON-able object.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, importDist, makeOutputDir, removeDir } from './paths.js';
import { median, nowMs, round, summarize } from './stats.js';

const PYTHON = '/usr/bin/python3';

export async function benchMonitors(context = {}) {
  const { quick = false, log = () => {}, seed = 20261207 } = context;
  const n = context.n ?? 1_000_000;
  const peerIncrementalCases = quick ? 20_000 : 100_000;
  const mon = await importDist('domain/monitoring/deployment-monitors.js');
  const { SeededRandom } = await importDist('domain/evaluation/random.js');
  const random = new SeededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random.nextFloat())) * Math.cos(2 * Math.PI * random.nextFloat());

  // A reference shaped like the demo's: bimodal probabilities, rare gate rejections, skewed image statistics.
  const m = 524;
  const probability = Float64Array.from({ length: m }, () => 1 / (1 + Math.exp(-3 * gauss() - 1)));
  const reference = new Map([
    ['probability', probability],
    ['positive', probability.map((p) => (p >= 1 / 6 ? 1 : 0))],
    ['referred', probability.map((p) => (p > 0.12 && p < 0.22 ? 1 : 0))],
    ['gateRejected', Float64Array.from({ length: m }, () => (random.nextFloat() < 0.002 ? 1 : 0))],
    ['gateWarned', Float64Array.from({ length: m }, () => (random.nextFloat() < 0.045 ? 1 : 0))],
    ['mean', Float64Array.from({ length: m }, () => 0.57 + 0.04 * gauss())],
    ['std', Float64Array.from({ length: m }, () => 0.145 + 0.02 * gauss())],
    ['laplacianVariance', Float64Array.from({ length: m }, () => Math.exp(-4.6 + 0.5 * gauss()))],
    ['noise', Float64Array.from({ length: m }, () => Math.exp(-4.9 + 0.3 * gauss()))],
    ['oodDistance', Float64Array.from({ length: m }, () => Math.abs(2.5 + 0.7 * gauss()))],
  ]);
  let t = nowMs();
  const plan = mon.designMonitors(reference, { falseAlarmDays: 90, casesPerDay: 200 });
  const designMs = nowMs() - t;
  log(`monitors: designed ${plan.detectors.length} detectors in ${round(designMs)} ms`);

  const signals = plan.signals.map((s) => s.name);
  const columns = signals.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    const r = random.nextInt(m);
    signals.forEach((name, s) => {
      columns[s][i] = reference.get(name)[r];
    });
    if (columns[3][i] === 1) for (const s of [0, 1, 2]) columns[s][i] = Number.NaN; // rejected: no output
  }

  // Vigil: recompute (median of 3), then the incremental update per case over all n cases.
  // Wall time and CPU time (the machine is shared: CPU time is what the work itself costs).
  const recomputeMs = [];
  const recomputeCpuMs = [];
  let result;
  for (let run = 0; run < 3; run++) {
    const cpu = process.cpuUsage();
    t = nowMs();
    result = mon.recomputeMonitors(plan, columns);
    recomputeMs.push(nowMs() - t);
    const used = process.cpuUsage(cpu);
    recomputeCpuMs.push((used.user + used.system) / 1000);
  }
  const state = mon.createMonitorState(plan);
  const row = new Float64Array(signals.length);
  t = nowMs();
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < row.length; s++) row[s] = columns[s][i];
    mon.updateMonitors(plan, state, row);
  }
  const incrementalUs = ((nowMs() - t) * 1000) / n;
  log(`monitors: Vigil recompute ${round(median(recomputeMs))} ms for ${n} cases, ${round(incrementalUs, 3)} µs per case incrementally`);

  const dir = makeOutputDir('monitors');
  let peer;
  try {
    const prefix = join(dir, 'stream');
    const all = new Float64Array(signals.length * n);
    columns.forEach((c, s) => all.set(c, s * n));
    writeFileSync(`${prefix}.columns.f64`, new Uint8Array(all.buffer));
    writeFileSync(
      `${prefix}.plan.json`,
      JSON.stringify({
        signals: plan.signals.map((s) => ({ name: s.name, kind: s.kind, reference: Array.from(reference.get(s.name)) })),
        detectors: plan.detectors,
      }),
    );
    log(`monitors: numpy/scipy peer (recompute ×3, ${peerIncrementalCases} per-case updates in Python)…`);
    const run = spawnSync(PYTHON, [join(BENCH_DIR, 'monitors-peer.py'), prefix, String(n), String(peerIncrementalCases)], {
      encoding: 'utf8',
      timeout: 1_800_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status === 0) {
      const out = JSON.parse(run.stdout);
      const diffs = out.finals.map((f, d) => Math.abs(f - result.state.statistic[d]));
      peer = {
        available: true,
        versions: { numpy: out.numpy, scipy: out.scipy },
        recomputeMs: summarize(out.recomputeMs),
        recomputeCpuMs: summarize(out.recomputeCpuMs),
        incrementalUsPerCase: round(out.incrementalUsPerCase, 3),
        incrementalCases: out.incrementalCases,
        alarms: out.alarms,
        maxAbsDifferenceOfFinalStatistics: Math.max(...diffs),
        maxRssMB: round(out.maxRssMB),
      };
    } else peer = { available: false, message: (run.stderr || run.error?.message || '').slice(-500) };
  } finally {
    removeDir(dir);
  }
  const vigilRecompute = median(recomputeMs);
  return {
    workload: {
      cases: n,
      signals: signals.length,
      detectors: plan.detectors.length,
      design: 'one false alarm per 90 days at 200 cases/day, Bonferroni over the detectors',
      stream: 'bootstrap draws from a synthetic 524-case reference (in control)',
      seed,
    },
    vigil: {
      designMs: round(designMs),
      recomputeMs: summarize(recomputeMs),
      recomputeCpuMs: summarize(recomputeCpuMs),
      incrementalUsPerCase: round(incrementalUs, 3),
      alarms: result.alerts.length,
      threads: 1,
      maxRssMB: round(process.resourceUsage().maxRSS / 1024),
    },
    peer,
    alarmsAgree: peer.available ? peer.alarms === result.alerts.length : null,
    ratioMeaning: 'peer ÷ Vigil, > 1 means Vigil is faster',
    ratioRecompute: peer.available ? round(peer.recomputeMs.median / vigilRecompute) : null,
    ratioRecomputeCpu: peer.available ? round(peer.recomputeCpuMs.median / median(recomputeCpuMs)) : null,
    ratioIncremental: peer.available ? round(peer.incrementalUsPerCase / incrementalUs) : null,
    goal: 'all monitors of a deployment recomputed over 1,000,000 stored cases in under 2 s; the per-case update in microseconds',
  };
}
