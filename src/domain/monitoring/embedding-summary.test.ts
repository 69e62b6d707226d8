import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EMBEDDING_SUMMARY_COMPONENTS, fitEmbeddingProjection, projectEmbedding, roundSummary } from './embedding-summary.js';
import {
  embeddingReferenceOf,
  embeddingSectionOf,
  monitoringReferenceFileSchema,
  monitoringReferenceFileOf,
  referenceColumnsOf,
} from './monitoring-reference-file.js';
import { MONITOR_SIGNAL_NAMES } from './case-signals.js';

interface Fixture {
  k: number;
  reference: number[][];
  test: number[][];
  mean: number[];
  components: number[][];
  variances: number[];
  totalVariance: number;
  referenceProjections: number[][];
  testProjections: number[][];
}
// Written by scripts/make-embedding-fixtures.py (numpy's eigh of np.cov on the demo model's embeddings).
const fx = JSON.parse(readFileSync(new URL('../../../test/fixtures/monitoring/embedding-summary.json', import.meta.url), 'utf8')) as Fixture;

describe('the embedding summary (principal components of the reference embeddings)', () => {
  const p = fitEmbeddingProjection(fx.reference, fx.k);

  it('has numpy’s mean, eigenvalues and components (to 1e-9)', () => {
    expect(fx.k).toBe(EMBEDDING_SUMMARY_COMPONENTS);
    expect(p.dimension).toBe(64);
    p.mean.forEach((v, j) => expect(Math.abs(v - fx.mean[j]!)).toBeLessThan(1e-12));
    p.variances.forEach((v, c) => expect(Math.abs(v - fx.variances[c]!) / fx.variances[0]!).toBeLessThan(1e-12));
    expect(Math.abs(p.totalVariance - fx.totalVariance) / fx.totalVariance).toBeLessThan(1e-12);
    for (let c = 0; c < fx.k; c++) for (let j = 0; j < p.dimension; j++) expect(Math.abs(p.components[c * 64 + j]! - fx.components[c]![j]!)).toBeLessThan(1e-9);
  });

  it('projects reference and unseen embeddings as numpy does (to 1e-9)', () => {
    const check = (rows: number[][], expected: number[][]) =>
      rows.forEach((row, i) => projectEmbedding(p, row).forEach((v, c) => expect(Math.abs(v - expected[i]![c]!)).toBeLessThan(1e-9)));
    check(fx.reference, fx.referenceProjections);
    check(fx.test, fx.testProjections);
  });

  it('gives orthonormal components in decreasing order of variance', () => {
    for (let a = 0; a < fx.k; a++) {
      if (a > 0) expect(p.variances[a]!).toBeLessThanOrEqual(p.variances[a - 1]!);
      for (let b = 0; b < fx.k; b++) {
        let dot = 0;
        for (let j = 0; j < 64; j++) dot += p.components[a * 64 + j]! * p.components[b * 64 + j]!;
        expect(Math.abs(dot - (a === b ? 1 : 0))).toBeLessThan(1e-12);
      }
    }
  });

  it('refuses too few rows, rows of unequal size, and an embedding of the wrong size', () => {
    expect(() => fitEmbeddingProjection(fx.reference.slice(0, 8), 8)).toThrow(RangeError);
    expect(() => fitEmbeddingProjection([...fx.reference.slice(0, 20), [1, 2]], 8)).toThrow(RangeError);
    expect(() => projectEmbedding(p, [1, 2, 3])).toThrow(RangeError);
  });

  it('rounds a stored summary to float32', () => {
    expect(Array.from(roundSummary([0.1, -2.5]))).toEqual([Math.fround(0.1), -2.5]);
  });
});

describe('the embedding part of monitoring-reference.json', () => {
  const p = fitEmbeddingProjection(fx.reference, fx.k);
  const n = fx.reference.length;
  const columns = new Map(MONITOR_SIGNAL_NAMES.map((name) => [name, new Float64Array(n)]));
  const base = monitoringReferenceFileOf(columns, 'fixture');

  it('round-trips the projection and the reference summaries (null for an image without an embedding)', () => {
    const summaries = fx.reference.map((row, i) => (i === 0 ? null : roundSummary(projectEmbedding(p, row))));
    const file = monitoringReferenceFileSchema.parse(JSON.parse(JSON.stringify({ ...base, embedding: embeddingSectionOf('embedding', p, summaries) })));
    const read = embeddingReferenceOf(file);
    expect(read.kind).toBe('projection');
    if (read.kind !== 'projection') return;
    expect(read.reference.projected).toHaveLength(n - 1);
    expect(Array.from(read.reference.projected[0]!)).toEqual(Array.from(summaries[1]!));
    expect(Array.from(projectEmbedding(read.reference.projection, fx.test[0]!))).toEqual(Array.from(projectEmbedding(p, fx.test[0]!)));
  });

  it('says why there is none: no file, or a model without an embedding output', () => {
    expect(embeddingReferenceOf(undefined)).toEqual({ kind: 'none', reason: expect.stringContaining('no monitoring-reference.json') as unknown });
    expect(embeddingReferenceOf({ ...base, embeddingNote: 'the model declares no embedding output' })).toEqual({
      kind: 'none',
      reason: 'the model declares no embedding output',
    });
  });

  it('may carry only the embedding part: no signal values (a baseline watches them), the embedding reference all the same', () => {
    const { signals: _signals, ...noSignals } = base;
    const section = embeddingSectionOf(
      'embedding',
      p,
      fx.reference.map((row) => roundSummary(projectEmbedding(p, row))),
    );
    const file = monitoringReferenceFileSchema.parse({ ...noSignals, signalsNote: 'watched against a baseline', embedding: section });
    expect(referenceColumnsOf(file)).toBeUndefined();
    expect(embeddingReferenceOf(file).kind).toBe('projection');
    expect(referenceColumnsOf(monitoringReferenceFileSchema.parse(base))?.get('probability')).toHaveLength(n);
    // Neither signals nor an embedding: nothing to monitor with, refused.
    expect(monitoringReferenceFileSchema.safeParse(noSignals).success).toBe(false);
  });

  it('refuses a projection whose parts disagree in size', () => {
    const section = embeddingSectionOf(
      'embedding',
      p,
      fx.reference.map(() => null),
    );
    expect(monitoringReferenceFileSchema.safeParse({ ...base, embedding: { ...section, projected: section.projected.slice(1) } }).success).toBe(false);
    expect(monitoringReferenceFileSchema.safeParse({ ...base, embedding: { ...section, mean: section.mean.slice(1) } }).success).toBe(false);
  });
});
