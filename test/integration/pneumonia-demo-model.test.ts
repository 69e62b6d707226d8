import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsModelBundleSource } from '../../src/adapters/model-bundle-fs/fs-model-bundle-source.js';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { OnnxModelRunner } from '../../src/adapters/onnx-runtime/onnx-model-runner.js';
import { calibrateScore } from '../../src/domain/calibration/calibrate.js';
import { buildFrame } from '../../src/domain/image/frame-builder.js';
import { parseModelManifest, type ModelBundle } from '../../src/domain/model/model-bundle.js';
import { preprocessFrame } from '../../src/domain/preprocessing/preprocess.js';
import { computeImageFeatures, IMAGE_FEATURE_NAMES } from '../../src/domain/quality/image-features.js';
import type { ModelSession } from '../../src/ports/model-runner.js';
import { DEMO_MODEL_DIR, hasPneumoniaMnist, PNEUMONIA_NPZ } from '../helpers/sample-data.js';

interface GoldenCase {
  index: number;
  label: number;
  features: Record<string, number>;
  logit: number;
  probability: number;
  embedding: number[];
}
const golden = JSON.parse(readFileSync(new URL('../fixtures/pneumonia-golden.json', import.meta.url), 'utf8')) as { cases: GoldenCase[] };

// Differential harness (STYLE.md): the TypeScript chain against values train.py computed with numpy and torch.
describe.skipIf(!hasPneumoniaMnist)('the demo model against its Python reference (needs ../shared/data/medmnist)', () => {
  let bundle: ModelBundle;
  let session: ModelSession;
  const split = hasPneumoniaMnist ? readMedmnistSplit(readFileSync(PNEUMONIA_NPZ), 'test') : undefined;
  const frameOf = (i: number) => buildFrame(split?.images[i] as Uint8Array, 28, 28, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });

  beforeAll(async () => {
    bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL_DIR);
    session = await new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 }).createSession(bundle);
  });
  afterAll(async () => session?.close());

  it('computes the same image features as numpy (bit for bit: the same sums in the same order)', () => {
    for (const c of golden.cases) {
      const prepared = preprocessFrame(frameOf(c.index), bundle.manifest);
      const features = computeImageFeatures(prepared.analysis, prepared.width, prepared.height);
      for (const name of IMAGE_FEATURE_NAMES) expect(features[name], `${name} of test image ${c.index}`).toBe(c.features[name]);
    }
  });

  it('gives the same logits as torch (to 1e-4) in one batch, and the same calibrated probabilities', async () => {
    const tensors = golden.cases.map((c) => preprocessFrame(frameOf(c.index), bundle.manifest).tensor);
    const batch = new Float32Array(tensors.length * 28 * 28);
    tensors.forEach((t, i) => batch.set(t, i * 28 * 28));
    const out = await session.run(batch, tensors.length);
    const logits = out.logit?.data as Float32Array;
    golden.cases.forEach((c, i) => {
      expect(logits[i]).toBeCloseTo(c.logit, 4);
      expect(calibrateScore(logits[i] as number, 'logit', bundle.manifest.calibration)).toBeCloseTo(c.probability, 5);
    });
  });

  it('returns the declared embedding, equal to torch’s pooled features (to 1e-5), and the head is a function of it', async () => {
    expect(bundle.manifest.embedding).toEqual({ output: 'embedding', dimension: 64 });
    const tensors = golden.cases.map((c) => preprocessFrame(frameOf(c.index), bundle.manifest).tensor);
    const batch = new Float32Array(tensors.length * 28 * 28);
    tensors.forEach((t, i) => batch.set(t, i * 28 * 28));
    const out = await session.run(batch, tensors.length);
    const embedding = out.embedding;
    expect(embedding?.dims).toEqual([8, 64]);
    let worst = 0;
    golden.cases.forEach((c, i) => {
      expect(c.embedding).toHaveLength(64);
      c.embedding.forEach((v, j) => (worst = Math.max(worst, Math.abs(embedding!.data[i * 64 + j]! - v))));
    });
    expect(worst).toBeLessThan(1e-5);
    // One image alone gives the same embedding as in the batch (no batch-dependent normalisation).
    const alone = await session.run(tensors[3]!, 1);
    expect(Array.from(alone.embedding!.data)).toEqual(Array.from(embedding!.data.subarray(3 * 64, 4 * 64)));
  });
});

describe('the manifest’s embedding against the model’s outputs', () => {
  const runner = new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 });
  const withEmbedding = async (embedding: { output: string; dimension: number }): Promise<ModelBundle> => {
    const bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL_DIR);
    return { ...bundle, manifest: { ...bundle.manifest, embedding } };
  };

  it('refuses a declared embedding output the model does not have (MODEL_OUTPUT_INVALID)', async () => {
    await expect(runner.createSession(await withEmbedding({ output: 'features', dimension: 64 }))).rejects.toMatchObject({
      code: 'MODEL_OUTPUT_INVALID',
      details: { expectedOutput: 'features' },
    });
  });

  it('refuses a declared dimension other than the output’s, and an output that is not [N, d]', async () => {
    await expect(runner.createSession(await withEmbedding({ output: 'embedding', dimension: 32 }))).rejects.toMatchObject({
      code: 'MODEL_OUTPUT_INVALID',
      message: expect.stringContaining('float32 [N, 32]') as unknown,
    });
    // `logit` is [N, 1]: a declared dimension 1 on it is a valid embedding shape, but the schema forbids a findings output.
    const bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL_DIR);
    expect(() => parseModelManifest({ ...bundle.manifest, embedding: { output: 'logit', dimension: 1 } })).toThrow(
      expect.objectContaining({ code: 'MODEL_MANIFEST_INVALID' }) as Error,
    );
  });

  it('fetches no embedding when the manifest declares none', async () => {
    const bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL_DIR);
    const { embedding: _embedding, ...manifest } = bundle.manifest;
    const session = await runner.createSession({ ...bundle, manifest });
    try {
      const out = await session.run(new Float32Array(28 * 28), 1);
      expect(Object.keys(out)).toEqual(['logit']);
    } finally {
      await session.close();
    }
  });
});
