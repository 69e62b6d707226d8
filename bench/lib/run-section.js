#!/usr/bin/env node
// Runs one benchmark in a process of its own (so that one benchmark's heap, JIT state and thread pools do
// not colour the next) and writes bench/results/<name>.json. Started by bench/run.js:
//
//   VIGIL_BENCH_OPTIONS='{"quick":false}' node bench/lib/run-section.js decode|predict|resnet18|audit|deid|evaluate|ingest|monitors
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runAuditBench } from './bench-audit.js';
import { runDecodeBench } from './bench-decode.js';
import { benchDeid } from './bench-deid.js';
import { benchEvaluate } from './bench-evaluate.js';
import { runIngestBench } from './bench-ingest.js';
import { benchMonitors } from './bench-monitors.js';
import { runPredictBench } from './bench-predict.js';
import { DEMO_MODEL_DIR, RESNET_DIR, RESULTS_DIR } from './paths.js';

const SECTIONS = {
  decode: (o) => runDecodeBench(o),
  predict: (o) => runPredictBench({ ...o, label: 'demo', modelDir: DEMO_MODEL_DIR, runs: o.quick ? 1 : 3 }),
  resnet18: async (o) => {
    const images = o.resnetImages ?? 312;
    const main = await runPredictBench({ ...o, label: 'resnet18', modelDir: RESNET_DIR, images, runs: o.quick ? 1 : 3, bareBatchSizes: [1] });
    // Diagnostic: with one intra-op thread ONNX Runtime does not compete with Node's own threads (V8's
    // concurrent GC, libuv, libvips) for the 2 cores. Three chunks of images keep the bench short.
    o.log('  variant: intraOpThreads = 1 (VIGIL_INTRA_OP_THREADS=1)');
    const oneThread = await runPredictBench({
      ...o,
      label: 'resnet18-1thread',
      modelDir: RESNET_DIR,
      images: 144,
      runs: o.quick ? 1 : 3,
      breakdown: false,
      wholeFolder: false,
      intraOpThreads: 1,
    });
    return { ...main, variants: { intraOpThreads1: oneThread } };
  },
  audit: (o) => runAuditBench({ ...o, runs: o.quick ? 1 : 3 }),
  deid: (o) => benchDeid({ quick: o.quick, log: o.log, install: o.install }),
  evaluate: (o) => benchEvaluate({ quick: o.quick, log: o.log }),
  ingest: (o) => runIngestBench({ quick: o.quick, log: o.log, install: o.install }),
  monitors: (o) => benchMonitors({ quick: o.quick, log: o.log }),
};

const name = process.argv[2];
const section = SECTIONS[name];
if (section === undefined) {
  process.stderr.write(`usage: node bench/lib/run-section.js ${Object.keys(SECTIONS).join('|')}\n`);
  process.exit(64);
}
const options = JSON.parse(process.env.VIGIL_BENCH_OPTIONS || '{}');

/**
 * CPU time of the whole machine and of this process with its waited-for children (/proc, clock ticks), to
 * tell how much of the machine other work took while the benchmark ran: the machine is shared.
 */
function cpuTicks() {
  try {
    const machine = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = machine.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = machine[3] + machine[4];
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields 14–17 of /proc/[pid]/stat (utime, stime, cutime, cstime); field 3 is the first after "(comm) ".
    const self = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const own = [11, 12, 13, 14].reduce((sum, i) => sum + Number(self[i]), 0);
    return { total, busy: total - idle, own };
  } catch {
    return undefined;
  }
}
const before = cpuTicks();
const loadBefore = loadavg()[0];
const log = (message) => process.stderr.write(`[${name}] ${message}\n`);
const started = Date.now();
const result = await section({ ...options, log });
result.durationS = Math.round((Date.now() - started) / 100) / 10;
const after = cpuTicks();
result.machineLoad = {
  loadAverage1m: { before: loadBefore, after: loadavg()[0] },
  // Share of all cores' time used by processes other than this benchmark while it ran (0 = quiet machine).
  othersCpuPercent:
    before === undefined || after === undefined
      ? null
      : // Clock-tick accounting of reaped children lags a little, so a quiet machine can come out slightly negative.
        Math.max(0, Math.round(((after.busy - before.busy - (after.own - before.own)) / (after.total - before.total)) * 1000) / 10),
  benchCpuPercent: before === undefined || after === undefined ? null : Math.round(((after.own - before.own) / (after.total - before.total)) * 1000) / 10,
};
writeFileSync(join(RESULTS_DIR, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
