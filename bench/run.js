#!/usr/bin/env node
// `npm run bench` (= npm run build && node bench/run.js): measures Vigil beside its native peers on this
// machine, in one run, and writes bench/results/<name>.json per benchmark plus bench/results/summary.json.
//
//   node bench/run.js [--only decode,predict,resnet18,audit,deid,evaluate,ingest,monitors] [--quick] [--no-install] [--resnet-images N]
//
// 1. installs the peers if missing (DCMTK, OpenJPEG tools; PyTorch + onnx to build the ResNet-18 bundle);
// 2. decode: Vigil vs DCMTK / OpenJPEG per frame (start-up excluded) and per file (one process per file);
// 3. predict: the whole predict path vs bare ONNX Runtime on the 624 PneumoniaMNIST test images (demo model);
// 4. resnet18: the same with a random-weight ResNet-18 (bench/build-resnet18.py), batch 1 vs 16 bare;
// 5. audit: durable audit appends per second and verify() time.
// 6. ingest: C-STORE instances/s, 1 and 8 associations, Vigil vs Orthanc (Debian), and last instance → case latency.
// 7. monitors: a deployment's 16 CUSUMs over 1,000,000 stored cases and per case, Vigil vs numpy/scipy
//    (alone: `npm run bench:monitors`, or `node bench/run.js --only monitors --no-install` after a build).
// Every figure is a median; comparisons are ratios of medians measured in the same run.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { collectVersions, describeMachine, ensurePeers } from './lib/peers.js';
import { BENCH_DIR, MODELS_DIR, REPO_ROOT, RESNET_DIR, RESULTS_DIR, SAMPLE_DATA_DIR } from './lib/paths.js';
import { formatReport } from './lib/report.js';

const ALL_SECTIONS = ['decode', 'predict', 'resnet18', 'audit', 'deid', 'evaluate', 'ingest', 'monitors'];
const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'no-install': { type: 'boolean', default: false },
    'resnet-images': { type: 'string' },
  },
});
const sections = values.only === undefined ? ALL_SECTIONS : values.only.split(',').map((s) => s.trim());
const unknown = sections.filter((s) => !ALL_SECTIONS.includes(s));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; choose from ${ALL_SECTIONS.join(', ')}\n`);
  process.exit(64);
}
const log = (message) => process.stderr.write(`[bench] ${message}\n`);
const started = Date.now();

if (!existsSync(join(REPO_ROOT, 'dist', 'main.js'))) {
  log('dist/ is missing: run `npm run bench` (it builds first) or `npm run build`.');
  process.exit(70);
}
if (!existsSync(join(SAMPLE_DATA_DIR, 'dicom-samples')) || !existsSync(join(SAMPLE_DATA_DIR, 'medmnist'))) {
  log(`sample data not found in ${SAMPLE_DATA_DIR} (set VIGIL_SAMPLE_DATA)`);
  process.exit(66);
}
mkdirSync(RESULTS_DIR, { recursive: true });

// 1. Peers.
const needResnet = sections.includes('resnet18');
const resnetMissing = !existsSync(join(RESNET_DIR, 'vigil-model.json')) || !existsSync(join(RESNET_DIR, 'model.onnx'));
log('checking peers (DCMTK, OpenJPEG, PyTorch)…');
const peers = ensurePeers({ install: !values['no-install'], needTorch: true, log });
for (const [name, status] of Object.entries(peers)) log(`  ${name}: ${status.available ? 'available' : 'NOT available'} (${status.message})`);

const skipped = {};
if (!peers.dcmtk.available) log('  → DCMTK comparisons are skipped (files marked "no peer"); the rest runs.');
if (!peers['libopenjp2-tools'].available) log('  → OpenJPEG comparisons are skipped (files marked "no peer"); the rest runs.');

// The ResNet-18 bundle, built once (bench/models/ is gitignored).
if (needResnet && resnetMissing) {
  if (!peers.torch.available) {
    skipped.resnet18 = `bench/models/resnet18/ is missing and PyTorch is not available to build it (${peers.torch.message})`;
  } else {
    log('building bench/models/resnet18/ with /usr/bin/python3 bench/build-resnet18.py…');
    const built = spawnSync('/usr/bin/python3', [join(BENCH_DIR, 'build-resnet18.py'), '--out', MODELS_DIR], { stdio: 'inherit', timeout: 900_000 });
    if (built.status !== 0) skipped.resnet18 = `bench/build-resnet18.py failed (exit ${built.status})`;
  }
}

// 2–5. Each benchmark in its own process.
const options = {
  quick: values.quick,
  peers,
  install: !values['no-install'],
  ...(values['resnet-images'] === undefined ? {} : { resnetImages: Number(values['resnet-images']) }),
};
const results = {};
for (const name of sections) {
  if (skipped[name] !== undefined) {
    log(`${name}: skipped — ${skipped[name]}`);
    continue;
  }
  const file = join(RESULTS_DIR, `${name}.json`);
  rmSync(file, { force: true });
  log(`${name}: running…`);
  const t = Date.now();
  const child = spawnSync(process.execPath, [join(BENCH_DIR, 'lib', 'run-section.js'), name], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, VIGIL_BENCH_OPTIONS: JSON.stringify(options) },
  });
  if (child.status !== 0 || !existsSync(file)) {
    skipped[name] = `failed (exit ${child.status ?? child.signal}); see the messages above`;
    log(`${name}: ${skipped[name]}`);
    continue;
  }
  results[name] = JSON.parse(readFileSync(file, 'utf8'));
  log(`${name}: done in ${Math.round((Date.now() - t) / 1000)} s`);
}

// Summary: the machine, the versions, the headline figures and every section's full results.
const headline = {};
if (results.decode) {
  headline.decode = {
    ratioMeaning: 'peer / Vigil, > 1 means Vigil is faster',
    bySyntaxFamily: Object.fromEntries(
      Object.entries(results.decode.bySyntaxFamily).map(([k, f]) => [
        k,
        { peer: f.peer, startupExcluded: f.startupExcludedRatioGeomean, perFile: f.perFileRatioGeomean },
      ]),
    ),
    totals: results.decode.totals,
  };
}
for (const name of ['predict', 'resnet18']) {
  const p = results[name];
  if (!p) continue;
  headline[name] = {
    model: p.model.id,
    images: p.images,
    batchSize: p.batchSize,
    pipelineMsPerImage: p.pipeline.perImageMs,
    pipelineImagesPerSecond: p.pipeline.imagesPerSecond,
    bareMsPerImage: Object.fromEntries(Object.entries(p.bare).map(([k, v]) => [k, v.perImageMs])),
    overheadMsPerImage: p.overhead.perImageMs,
    overheadPercentOfModel: p.overhead.percentOfModel,
    overheadPercentOfModelIqr: p.overhead.percentOfModelQuartiles,
    overheadCpuPercentOfModel: p.overhead.cpuPercentOfModel,
    modelSlowdownInsidePipelineMsPerImage: p.overhead.modelSlowdownPerImageMs,
    workOutsideModelMsPerImage: p.overhead.outsideModelPerImageMs,
    ...(p.variants?.intraOpThreads1 === undefined
      ? {}
      : {
          intraOpThreads1: {
            overheadPercentOfModel: p.variants.intraOpThreads1.overhead.percentOfModel,
            bareMsPerImage: p.variants.intraOpThreads1.bare[`batch${p.batchSize}`].perImageMs,
          },
        }),
    machineLoad: p.machineLoad,
    ...(p.batching === undefined ? {} : { batching: p.batching }),
  };
}
if (results.audit) {
  headline.audit = {
    appendsPerSecond: results.audit.appendsPerSecond,
    msPerAppendP50: results.audit.perAppendMs.p50,
    verifyMs: results.audit.verifyMs.median,
    fsyncFloorMs: results.audit.fsyncFloorMs.median,
  };
}
if (results.deid) {
  headline.deid = { ratioMeaning: results.deid.ratioMeaning, ratios: results.deid.ratios, skipped: results.deid.skipped };
}
if (results.evaluate) {
  const e = results.evaluate;
  headline.evaluate = {
    workload: e.workload,
    vigilPerReplicateMs: e.vigil.perReplicateMs,
    peerPerReplicateMs: e.peer.available ? e.peer.perReplicateMs : null,
    ratioPerReplicate: e.ratioPerReplicate,
    aurocAgrees: e.aurocAgrees,
    maxRssMB: { vigil: e.vigil.maxRssMB, peer: e.peer.available ? e.peer.maxRssMB : null },
  };
}
if (results.ingest) {
  const i = results.ingest;
  headline.ingest = {
    ratioMeaning: i.ratioMeaning,
    bySetting: Object.fromEntries(
      i.settings.map((x) => [
        x.setting,
        { vigilPerSecond: x.vigilPerSecond, orthancPerSecond: x.orthancPerSecond, ratio: x.ratio, cpuMsPerInstance: x.cpuMsPerInstance },
      ]),
    ),
    latency: { studyQuietMs: i.latency.studyQuietMs, observedMs: i.latency.observedMs, beyondQuietMs: i.latency.beyondQuietMs },
    loadAverage: i.loadAverage,
  };
}
if (results.monitors) {
  const m = results.monitors;
  headline.monitors = {
    workload: m.workload,
    vigilRecomputeMs: m.vigil.recomputeMs.median,
    vigilRecomputeCpuMs: m.vigil.recomputeCpuMs.median,
    peerRecomputeCpuMs: m.peer.available ? m.peer.recomputeCpuMs.median : null,
    ratioRecomputeCpu: m.ratioRecomputeCpu,
    vigilIncrementalUsPerCase: m.vigil.incrementalUsPerCase,
    peerRecomputeMs: m.peer.available ? m.peer.recomputeMs.median : null,
    peerIncrementalUsPerCase: m.peer.available ? m.peer.incrementalUsPerCase : null,
    ratioMeaning: m.ratioMeaning,
    ratioRecompute: m.ratioRecompute,
    ratioIncremental: m.ratioIncremental,
    alarmsAgree: m.alarmsAgree,
    machineLoad: m.machineLoad,
  };
}
const summary = {
  date: new Date().toISOString(),
  command: `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
  quick: values.quick,
  machine: describeMachine(process.env.VIGIL_BENCH_TMP || tmpdir()),
  versions: collectVersions(),
  peers,
  sampleData: SAMPLE_DATA_DIR,
  skipped,
  durationS: Math.round((Date.now() - started) / 100) / 10,
  headline,
  results,
};
writeFileSync(join(RESULTS_DIR, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
process.stdout.write(`\n${formatReport(summary)}\n`);
process.exitCode = Object.keys(skipped).length > 0 ? 1 : 0;
