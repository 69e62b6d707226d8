import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsModelBundleSource } from '../../src/adapters/model-bundle-fs/fs-model-bundle-source.js';
import { readMedmnistSplit } from '../../src/adapters/dataset-medmnist/read-npz.js';
import { OnnxModelRunner } from '../../src/adapters/onnx-runtime/onnx-model-runner.js';
import { calibrateScore } from '../../src/domain/calibration/calibrate.js';
import { buildFrame } from '../../src/domain/image/frame-builder.js';
import type { ModelBundle } from '../../src/domain/model/model-bundle.js';
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
});
