// Predict, before and after a change to the core, in one run: the same PneumoniaMNIST test images
// through `createServices(config).predict()` of two builds of Vigil, alternating, so both see the same
// machine load. "Before" is built from a git ref in a scratch worktree (sharing this checkout's
// node_modules: the dependency set must be the same); "after" is this checkout's dist/ (npm run build).
//
//   node bench/predict-reshape.js [--before REF] [--images N] [--rounds R]
//
// Default REF: ffdbc91, main before the issue-11 reshaping (one inference chain, input kinds, model
// pool). Writes bench/results/predict-reshape-<time>.json: per build the median ms per image over the
// rounds, the ratio after/before (< 1: after is faster), and whether both gave identical results.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PNEUMONIA_NPZ, REPO_ROOT, RESULTS_DIR, makeScratchDir, removeDir } from './lib/paths.js';
import { median, nowMs, round } from './lib/stats.js';

const { values } = parseArgs({
  options: { before: { type: 'string', default: 'ffdbc91' }, images: { type: 'string', default: '624' }, rounds: { type: 'string', default: '5' } },
});
const imageCount = Number(values.images);
const rounds = Number(values.rounds);
const scratch = makeScratchDir('vigil-bench-reshape-');
const beforeRoot = join(scratch, 'before');

const log = (line) => process.stderr.write(`${line}\n`);
try {
  log(`building ${values.before} in ${beforeRoot}`);
  execFileSync('git', ['worktree', 'add', '--detach', beforeRoot, values.before], { cwd: REPO_ROOT, stdio: 'ignore' });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(beforeRoot, 'node_modules'));
  execFileSync(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: beforeRoot, stdio: 'inherit' });
  const beforeCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: beforeRoot, encoding: 'utf8' }).trim();
  const afterCommit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();

  const builds = {};
  for (const [name, root] of [
    ['before', beforeRoot],
    ['after', REPO_ROOT],
  ]) {
    const load = (p) => import(new URL(`file://${join(root, 'dist', p)}`).href);
    const [main, config, logging] = await Promise.all([load('main.js'), load('config/load-config.js'), load('logging/create-logger.js')]);
    builds[name] = { root, createServices: main.createServices, loadConfig: config.loadConfig, logger: logging.createLogger('silent') };
  }

  // The images, as grey PNGs (the "after" build's reader and encoder; the same bytes for both).
  const [npz, png] = await Promise.all([
    import(`file://${join(REPO_ROOT, 'dist/adapters/dataset-medmnist/read-npz.js')}`),
    import(`file://${join(REPO_ROOT, 'dist/adapters/image-sharp/encode-png.js')}`),
  ]);
  const split = npz.readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'test');
  const images = join(scratch, 'images');
  mkdirSync(images);
  const n = Math.min(imageCount, split.images.length);
  for (let i = 0; i < n; i++)
    writeFileSync(join(images, `${String(i).padStart(4, '0')}.png`), await png.encodeGreyPng(split.images[i], split.width, split.height));
  const options = { declared: { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } } };

  const perImageMs = { before: [], after: [] };
  const outputs = { before: undefined, after: undefined };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['before', 'after'] : ['after', 'before'];
    for (const name of order) {
      const b = builds[name];
      const dataDir = join(scratch, `data-${name}-${r}`);
      const services = b.createServices(b.loadConfig(process.env, b.root, { dataDir }), b.logger);
      try {
        await services.predict([images], options, () => {}); // warm: model load, first batch
        const lines = [];
        const s = nowMs();
        await services.predict([images], options, (result) =>
          lines.push(`${result.status} ${result.outputs.map((o) => `${o.finding}=${o.probability}:${o.decision}`).join(',')}`),
        );
        perImageMs[name].push((nowMs() - s) / n);
        outputs[name] ??= lines;
      } finally {
        await services.close();
        removeDir(dataDir);
      }
      log(`round ${r + 1}/${rounds} ${name}: ${perImageMs[name].at(-1).toFixed(4)} ms/image`);
    }
  }
  const result = {
    bench: 'predict before and after the core reshaping',
    images: n,
    rounds,
    before: { ref: values.before, commit: beforeCommit, msPerImageMedian: round(median(perImageMs.before)), msPerImage: perImageMs.before.map(round) },
    after: { commit: afterCommit, msPerImageMedian: round(median(perImageMs.after)), msPerImage: perImageMs.after.map(round) },
    ratioAfterOverBefore: round(median(perImageMs.after) / median(perImageMs.before)),
    identicalResults: JSON.stringify(outputs.before) === JSON.stringify(outputs.after),
    note: 'ms per image of one predict() over the folder (PNG read, de-identification check, preprocess, gate, batched ONNX Runtime, calibrate, decide, audit group commit), after a warm-up call; builds alternate per round.',
  };
  mkdirSync(RESULTS_DIR, { recursive: true });
  const out = join(RESULTS_DIR, `predict-reshape-${new Date().toISOString().replaceAll(':', '-').slice(0, 19)}.json`);
  writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  log(`written ${out}`);
} finally {
  try {
    execFileSync('git', ['worktree', 'remove', '--force', beforeRoot], { cwd: REPO_ROOT, stdio: 'ignore' });
  } catch {
    // the scratch folder goes anyway
  }
  removeDir(scratch);
}
