import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { nodeHasher } from '../../src/adapters/crypto-node/node-hasher.js';
import { FsModelBundleSource } from '../../src/adapters/model-bundle-fs/fs-model-bundle-source.js';
import { OnnxModelRunner } from '../../src/adapters/onnx-runtime/onnx-model-runner.js';
import { SqliteAuditLog } from '../../src/adapters/store-sqlite/sqlite-audit-log.js';
import { buildFrame } from '../../src/domain/image/frame-builder.js';
import type { ImageFrame } from '../../src/domain/image/image-frame.js';
import type { LabelledCase, LabelledDataset } from '../../src/ports/evaluation-data.js';
import { InferenceChain } from '../../src/workflows/inference-chain.js';
import { standardInputKinds } from '../../src/workflows/input-kinds.js';
import { predictImages, type PredictResult } from '../../src/workflows/predict-images.js';
import { scoreDataset } from '../../src/workflows/score-dataset.js';

const DEMO_MODEL = join(import.meta.dirname, '..', '..', 'models', 'pneumonia-demo');
const N = 40;

/** Varied 28 × 28 films (some flat, so the gate rejects them), the same for both paths. */
function film(seed: number): ImageFrame {
  const pixels = Uint8Array.from({ length: 28 * 28 }, (_, i) =>
    seed % 9 === 0
      ? 120
      : Math.round(100 + (40 + seed) * Math.sin((i % 28) / (3 + (seed % 5)) + seed) * Math.cos(Math.floor(i / 28) / 6) + ((i * (seed + 3)) % 13)),
  );
  return buildFrame(pixels, 28, 28, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });
}

async function* toAsync<T>(items: readonly T[]): AsyncIterable<T> {
  for (const item of items) yield await Promise.resolve(item);
}

describe('one inference chain: predict (and so the server) and evaluate judge an image alike', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-chain-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every image the same gate verdict, calibrated probability and monitoring measurements, with the real model', async () => {
    const bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL);
    const session = await new OnnxModelRunner({ executionProvider: 'cpu', intraOpThreads: 1 }).createSession(bundle);
    const chain = new InferenceChain(bundle, session);
    const frames = Array.from({ length: N }, (_, i) => film(i));
    const declared = { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: { min: 1, max: 5 } };
    const inputs = standardInputKinds({
      dicom: { isDicom: () => false, readInstance: () => Promise.reject(new Error('no DICOM here')) },
      raster: { isRaster: () => true, readRaster: (bytes) => Promise.resolve(frames[bytes[0]!]!) },
    });

    const audit = SqliteAuditLog.open({ dataDir: dir, clock: { now: () => new Date() } });
    const predicted: PredictResult[] = [];
    await predictImages(
      {
        files: {
          list: (paths) => Promise.resolve(paths.map((path) => ({ path, sizeBytes: 1 }))),
          read: (file) => Promise.resolve(Uint8Array.of(Number(file.path))),
        },
        inputs,
        hasher: nodeHasher,
        pseudonymizer: { studyKey: (id) => `st-${nodeHasher.sha256Hex(id).slice(0, 32)}` },
        audit,
        logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
        chain,
        configHash: 'ab'.repeat(32),
        origin: 'cli',
        batchSize: 7,
        declared,
        // The server's judging asks for the chain's measurements (monitoring): they must be evaluate's.
        measure: true,
      },
      frames.map((_, i) => String(i)),
      (r) => predicted.push(r),
    );
    await audit.close();

    const dataset: LabelledDataset = {
      description: 'synthetic films',
      sha256: '00'.repeat(32),
      count: N,
      strataColumns: [],
      strataNotes: [],
      cases: () =>
        toAsync(frames.map((frame, i): LabelledCase => ({ id: String(i), row: i, label: (i % 2) as 0 | 1, strata: {}, image: { kind: 'frame', frame } }))),
    };
    // A different batch size: batching must not change a score.
    const scored = await scoreDataset({ inputs, chain, batchSize: 5, declared }, dataset);
    await session.close();

    const evaluated = new Map(scored.ids.map((id, i) => [id, scored.probabilities[i]!]));
    const rejectedByEvaluation = new Set(scored.excluded.map((e) => e.id));
    expect(predicted).toHaveLength(N);
    let decided = 0;
    for (const r of predicted) {
      const id = r.input.file;
      if (r.status === 'rejected') expect(rejectedByEvaluation.has(id)).toBe(true);
      else {
        expect(r.status).toBe('decided');
        decided++;
        expect(r.outputs[0]!.probability).toBeCloseTo(evaluated.get(id)!, 6);
      }
    }
    expect(decided).toBe(scored.ids.length);
    // Monitoring's per-image values (measured while judging, no second decode) are the shift features evaluate measures.
    for (const r of predicted) {
      const i = Number(r.input.file);
      for (const name of ['mean', 'std', 'laplacianVariance', 'noise', 'oodDistance'] as const) {
        expect(r.measures?.[name], `${name} of image ${i}`).toBe(scored.shiftFeatures.get(name)?.[i]);
      }
    }
    expect(rejectedByEvaluation.size).toBeGreaterThan(0);
    expect(decided).toBeGreaterThan(N / 2);
  });
});
