#!/usr/bin/env node
// Writes models/pneumonia-demo/monitoring-reference.json: the demo version's embedding reference
// (docs/monitoring.md, "In the server"), made by the code `vigil model init` uses for its own
// (workflows/monitoring-reference.ts `embeddingReferenceOf`): PneumoniaMNIST val scored through Vigil's
// inference chain with the demo bundle, the principal components (k = 8) of its images' embeddings, and
// each image's projection (null for one the gate rejected).
//
//   npx tsc -p tsconfig.build.json && node scripts/make-demo-monitoring-reference.mjs [--data PATH]
//
// The file carries no per-signal values (`signalsNote` says why): the demo's signals keep their production
// baseline (which alone lets them watch acquisition metadata); the embedding detector (online MMD) takes
// this reference. Adding or changing the file changes the demo's version id (README, its contract test).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => import(new URL(`../dist/${p}`, import.meta.url).href);
const { values: args } = parseArgs({
  options: { data: { type: 'string', default: join(ROOT, '..', 'shared', 'data', 'medmnist', 'pneumoniamnist.npz') } },
});
const [{ FsModelBundleSource }, { OnnxModelRunner }, { InferenceChain }, { scoreDataset }, npz, { rasterAttributes }, ref, file] = await Promise.all([
  dist('adapters/model-bundle-fs/fs-model-bundle-source.js'),
  dist('adapters/onnx-runtime/onnx-model-runner.js'),
  dist('workflows/inference-chain.js'),
  dist('workflows/score-dataset.js'),
  dist('adapters/dataset-medmnist/read-npz.js'),
  dist('domain/image/image-frame.js'),
  dist('workflows/monitoring-reference.js'),
  dist('domain/monitoring/monitoring-reference-file.js'),
]);

const modelDir = join(ROOT, 'models', 'pneumonia-demo');
const bundle = await new FsModelBundleSource().loadBundle(modelDir);
const session = await new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 }).createSession(bundle);
const bytes = readFileSync(args.data);
const val = npz.readMedmnistSplit(bytes, 'val');
const RASTER = rasterAttributes(1, 8, false);
const dataset = {
  description: 'PneumoniaMNIST val',
  sha256: createHash('sha256').update(bytes).digest('hex'),
  count: val.images.length,
  strataColumns: [],
  strataNotes: [],
  async *cases() {
    for (let i = 0; i < val.images.length; i++) {
      const frame = { attributes: RASTER, frameIndex: 0, rows: val.height, columns: val.width, samplesPerPixel: 1, pixels: val.images[i] };
      yield { id: `${i}`, row: i, label: val.labels[i] === 1 ? 1 : 0, strata: {}, image: { kind: 'frame', frame } };
    }
  },
};
let scored;
try {
  scored = await scoreDataset(
    { inputs: undefined, chain: new InferenceChain(bundle, session), batchSize: 64, declared: npz.PNEUMONIAMNIST_DECLARATION },
    dataset,
  );
} finally {
  await session.close();
}
const part = ref.embeddingReferenceOf(scored, bundle.manifest);
if (part.embedding === undefined) throw new Error(`no embedding reference: ${part.embeddingNote}`);
const out = {
  format: 'vigil-monitoring-reference/1',
  source: `PneumoniaMNIST val, ${scored.total} images, npz sha256 ${dataset.sha256} (scripts/make-demo-monitoring-reference.mjs, as vigil model init)`,
  cases: scored.total,
  signalsNote:
    "the demo's signals are watched against a production baseline (which alone can watch acquisition metadata): this file carries only the embedding reference",
  embedding: part.embedding,
};
const parsed = file.monitoringReferenceFileSchema.safeParse(out);
if (!parsed.success) throw new Error(`the file does not match its format: ${parsed.error.message}`);
writeFileSync(join(modelDir, file.MONITORING_REFERENCE_FILE), JSON.stringify(out) + '\n');
const kept = part.embedding.projected.filter((p) => p !== null).length;
process.stderr.write(`wrote ${file.MONITORING_REFERENCE_FILE}: ${scored.total} images, ${kept} with a projection (k = ${part.embedding.components.length})\n`);
