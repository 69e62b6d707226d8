/**
 * Evaluation benchmark (issue 4): AUROC plus 2,000 stratified bootstrap replicates (stratum × label
 * cells, 10 strata) over 1,000,000 synthetic predictions, Vigil (dist/domain/evaluation, one thread)
 * beside scikit-learn doing the same with numpy (bench/evaluate-peer.py, /usr/bin/python3) on the same
 * data in the same run. The peer's loop costs ≈0.2 s per replicate, so it runs `peerReplicates`
 * replicates (a few hundred) and the comparison is per replicate: ratio = peer median ms per replicate
 * / Vigil ms per replicate (Vigil's includes its one-off sort, spread over its replicates).
 * Memory: peak RSS of each process (Node: process.resourceUsage().maxRSS; Python: ru_maxrss).
 *
 * Contract: `await benchEvaluate({ quick?, log?, n?, strata?, replicates?, peerReplicates?, seed? })`
 * resolves to a plain JSON-able object (see the return statement); it throws only if dist/ is missing.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_DIR, importDist, makeOutputDir, removeDir } from './paths.js';
import { median, nowMs, round, summarize } from './stats.js';

const PYTHON = '/usr/bin/python3';

export async function benchEvaluate(context = {}) {
  const { quick = false, log = () => {}, seed = 20231124 } = context;
  const n = context.n ?? 1_000_000;
  const strataCount = context.strata ?? 10;
  const replicates = context.replicates ?? (quick ? 200 : 2000);
  const peerReplicates = context.peerReplicates ?? (quick ? 20 : 200);
  const { SeededRandom } = await importDist('domain/evaluation/random.js');
  const { computeAuroc } = await importDist('domain/evaluation/auroc.js');
  const { delongAuroc } = await importDist('domain/evaluation/delong.js');
  const { bootstrapStratified, percentileInterval } = await importDist('domain/evaluation/stratified-bootstrap.js');

  // Synthetic predictions: prevalence 0.3, 10 strata of unequal size and difficulty, scores rounded to
  // 1e-6 so that ties occur as they do in real scores.
  log(`evaluate: generating ${n} predictions in ${strataCount} strata…`);
  const random = new SeededRandom(seed);
  const scores = new Float64Array(n);
  const labels = new Uint8Array(n);
  const strata = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const s = Math.min(strataCount - 1, Math.floor(strataCount * random.nextFloat() ** 1.3));
    const y = random.nextFloat() < 0.3 ? 1 : 0;
    const u = 1 - random.nextFloat();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextFloat());
    const logit = (y === 1 ? 1.2 : -1.2) + (1 + s / strataCount) * z;
    scores[i] = Math.round(1e6 / (1 + Math.exp(-logit))) / 1e6;
    labels[i] = y;
    strata[i] = s;
  }

  // Vigil.
  const rssBefore = process.memoryUsage().rss;
  let t = nowMs();
  const auroc = computeAuroc(scores, labels);
  const aurocMs = nowMs() - t;
  t = nowMs();
  const delong = delongAuroc(scores, labels);
  const delongMs = nowMs() - t;
  log(`evaluate: Vigil AUROC ${auroc.toFixed(6)} in ${round(aurocMs)} ms; DeLong SE ${delong.se.toExponential(3)} in ${round(delongMs)} ms`);
  log(`evaluate: Vigil ${replicates} stratified bootstrap replicates…`);
  t = nowMs();
  const boot = bootstrapStratified({ scores, labels, strata, strataCount, threshold: 0.5, replicates, seed });
  const bootstrapMs = nowMs() - t;
  const ci = percentileInterval(boot.auroc);
  const vigilPerReplicateMs = bootstrapMs / replicates;
  const vigilMaxRssMB = process.resourceUsage().maxRSS / 1024;
  log(`evaluate: Vigil ${round(bootstrapMs)} ms (${round(vigilPerReplicateMs)} ms per replicate), CI ${ci.low.toFixed(5)}–${ci.high.toFixed(5)}`);

  // The peer, on the same data.
  const dir = makeOutputDir('evaluate');
  let peer;
  try {
    const prefix = join(dir, 'preds');
    writeFileSync(`${prefix}.scores.f64`, new Uint8Array(scores.buffer));
    writeFileSync(`${prefix}.labels.u8`, labels);
    writeFileSync(`${prefix}.strata.u16`, new Uint8Array(strata.buffer));
    log(`evaluate: scikit-learn, ${peerReplicates} replicates…`);
    const run = spawnSync(PYTHON, [join(BENCH_DIR, 'evaluate-peer.py'), prefix, String(n), String(peerReplicates), String(seed)], {
      encoding: 'utf8',
      timeout: 3_600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status === 0) {
      const out = JSON.parse(run.stdout);
      peer = {
        available: true,
        versions: { scikitLearn: out.sklearn, numpy: out.numpy },
        aurocMs: round(out.aurocMs),
        replicates: out.replicates,
        perReplicateMs: summarize(out.perReplicateMs),
        auroc: out.auroc,
        maxRssMB: round(out.maxRssMB),
        projected2000Ms: round(median(out.perReplicateMs) * 2000 + out.setupMs),
      };
    } else {
      peer = { available: false, message: (run.stderr || run.error?.message || '').slice(-500) };
    }
  } finally {
    removeDir(dir);
  }

  const ratio = peer.available ? peer.perReplicateMs.median / vigilPerReplicateMs : null;
  if (ratio !== null) log(`evaluate: scikit-learn ${peer.perReplicateMs.median} ms per replicate → Vigil is ${ratio.toFixed(1)}× faster per replicate`);
  return {
    workload: { predictions: n, strata: strataCount, prevalence: 0.3, replicates, resampling: 'stratified by stratum × label, percentile interval', seed },
    vigil: {
      auroc,
      aurocMs: round(aurocMs),
      delongMs: round(delongMs),
      bootstrapMs: round(bootstrapMs),
      perReplicateMs: round(vigilPerReplicateMs),
      ci95: [ci.low, ci.high],
      threads: 1,
      rssBeforeMB: round(rssBefore / 1048576),
      maxRssMB: round(vigilMaxRssMB),
    },
    peer,
    aurocAgrees: peer.available ? Math.abs(peer.auroc - auroc) < 1e-9 : null,
    ratioPerReplicate: ratio === null ? null : round(ratio),
    goal: 'Vigil at least 10× faster per replicate than the scikit-learn loop',
  };
}
