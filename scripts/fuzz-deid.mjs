#!/usr/bin/env node
// A long fuzzing run of the de-identifier: the harness `npm test` runs with a modest count
// (src/adapters/dicom-dcmjs/element-deidentifier.fuzz.test.ts: every sample in ../shared/data/dicom-samples
// and files built in code, re-encoded with VR UN, re-nested, lengths changed, deflated, corrupted), with as
// many runs as asked and a seed. Prints the counts (outcomes, coded errors) and the time per run.
//
//   . scripts/ensure-node.sh && node scripts/fuzz-deid.mjs --runs 5000 [--seed 12345]
//
// A failure prints fast-check's counterexample and its seed/path; rerun with that seed to replay it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const HARNESS = 'src/adapters/dicom-dcmjs/element-deidentifier.fuzz.test.ts';

function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(`--${name}`);
  if (at === -1) return fallback;
  const value = Number(args[at + 1]);
  if (!Number.isSafeInteger(value) || value < 0) {
    console.error(`fuzz-deid: --${name} needs a non-negative integer`);
    process.exit(2);
  }
  return value;
}

if (Number(process.versions.node.split('.')[0]) < 24) {
  console.error('fuzz-deid: Vigil needs Node.js 24; run `. scripts/ensure-node.sh` first');
  process.exit(2);
}
const runs = option('runs', 2000);
const seed = option('seed', 20261124);
const scratch = mkdtempSync(join(tmpdir(), 'vigil-fuzz-deid-'));
const report = join(scratch, 'report.json');
const started = Date.now();
const run = spawnSync(process.execPath, [resolve(ROOT, 'node_modules/vitest/vitest.mjs'), 'run', HARNESS], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, VIGIL_FUZZ_RUNS: String(runs), VIGIL_FUZZ_SEED: String(seed), VIGIL_FUZZ_REPORT: report },
});
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  console.log(
    [
      `fuzz-deid: seed ${r.seed}, ${r.runs} runs over ${r.corpus} base files in ${((Date.now() - started) / 1000).toFixed(1)} s (harness included)`,
      `  de-identified ${r.deidentified}, refused with a coded error ${r.runs - r.deidentified}: ${JSON.stringify(r.errors)}`,
      `  corrupted inputs ${r.corrupted}; planted values checked ${r.plantedChecked}; found only inside kept attributes after corruption ${r.survivingInKeptAttributes}`,
      `  de-identification time per run: mean ${r.meanMs.toFixed(1)} ms, max ${r.maxMs.toFixed(1)} ms (${r.maxMsInput})`,
    ].join('\n'),
  );
}
rmSync(scratch, { recursive: true, force: true });
process.exit(run.status ?? 1);
