import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// The audit trail is checked end to end, so the test wires real adapters (as main.ts does) around the workflow.
/* eslint-disable import-x/no-restricted-paths -- a test, not workflow code: it composes adapters as main.ts does */
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { FsModelBundleSource } from '../adapters/model-bundle-fs/fs-model-bundle-source.js';
import { SqliteAuditLog } from '../adapters/store-sqlite/sqlite-audit-log.js';
/* eslint-enable import-x/no-restricted-paths */
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { buildFrame } from '../domain/image/frame-builder.js';
import type { AuditLog, AuditReceipt } from '../ports/audit-log.js';
import { createSteppingClock } from '../ports/audit-log.contract.js';
import { InferenceChain } from './inference-chain.js';
import { standardInputKinds } from './input-kinds.js';
import { predictImages, type PredictDependencies, type PredictResult } from './predict-images.js';

const DEMO_MODEL = join(import.meta.dirname, '..', '..', 'models', 'pneumonia-demo');

/**
 * Inputs by name: `ok-<seed>` a varied 28 × 28 grey image, `flat` a constant one (the gate rejects it),
 * `unreadable` a file that cannot be read, `text` a file that is neither DICOM nor PNG/JPEG.
 */
function fakeInputs(): Pick<PredictDependencies, 'files' | 'inputs'> {
  return {
    files: {
      list: (paths) => Promise.resolve(paths.map((path) => ({ path, sizeBytes: 0 }))),
      read: (file) => {
        if (file.path === 'unreadable') return Promise.reject(new Error('EACCES'));
        if (file.path === 'text') return Promise.resolve(new TextEncoder().encode('hello'));
        if (file.path.startsWith('dcm-')) return Promise.resolve(Uint8Array.from([2, Number(file.path.slice(4))]));
        return Promise.resolve(Uint8Array.from([1, file.path === 'flat' ? 0 : Number(file.path.slice(3)) + 1]));
      },
    },
    inputs: standardInputKinds({
      raster: {
        isRaster: (bytes) => bytes[0] === 1,
        readRaster: (bytes) => {
          const seed = bytes[1] as number;
          // A smooth picture with a little texture, within what the demo model's reference statistics expect.
          const pixels = Uint8Array.from({ length: 28 * 28 }, (_, i) =>
            seed === 0 ? 128 : Math.round(110 + 60 * Math.sin((i % 28) / 5 + seed) * Math.cos(Math.floor(i / 28) / 6) + ((i * 7) % 11)),
          );
          return Promise.resolve(buildFrame(pixels, 28, 28, { source: 'raster', bitsAllocated: 8, bitsStored: 8 }));
        },
      },
      // `dcm-<seed>`: a DICOM instance whose header states how it was acquired (the reader's attributes).
      dicom: {
        isDicom: (bytes) => bytes[0] === 2,
        readInstance: (bytes) => {
          const seed = bytes[1] as number;
          const pixels = Uint8Array.from({ length: 28 * 28 }, (_, i) =>
            Math.round(110 + 60 * Math.sin((i % 28) / 5 + seed) * Math.cos(Math.floor(i / 28) / 6)),
          );
          const frame = buildFrame(pixels, 28, 28, {
            source: 'dicom',
            modality: 'CR',
            bodyPartExamined: 'CHEST',
            viewPosition: 'PA',
            bitsAllocated: 8,
            bitsStored: 8,
            transferSyntaxUid: '1.2.840.10008.1.2.1',
            softwareVersions: ['VX 3.1', 'PLC 2'],
            kvp: 84.5,
            pixelSpacingMm: [0.143, 0.143],
          });
          return Promise.resolve({ identifiers: {}, attributes: frame.attributes, frameCount: 1, decodeFrame: () => Promise.resolve(frame) });
        },
      },
    }),
  };
}

/** Records each write, and can make the next appendMany fail (as a store error would, writing nothing). */
class RecordingAuditLog implements AuditLog {
  readonly groups: AuditEvent[][] = [];
  readonly durable = new Set<string>();
  failNextGroup = false;
  constructor(private readonly inner: AuditLog) {}
  async append(event: AuditEvent): Promise<AuditReceipt> {
    this.groups.push([event]);
    const receipt = await this.inner.append(event);
    this.durable.add(receipt.auditId);
    return receipt;
  }
  async appendMany(events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
    if (this.failNextGroup) {
      this.failNextGroup = false;
      throw new Error('disk full');
    }
    this.groups.push([...events]);
    const receipts = await this.inner.appendMany(events);
    for (const r of receipts) this.durable.add(r.auditId);
    return receipts;
  }
  get = (auditId: string): ReturnType<AuditLog['get']> => this.inner.get(auditId);
  size = (): ReturnType<AuditLog['size']> => this.inner.size();
  verify = (): ReturnType<AuditLog['verify']> => this.inner.verify();
  prove = (auditId: string): ReturnType<AuditLog['prove']> => this.inner.prove(auditId);
  close = (): Promise<void> => this.inner.close();
}

describe('predictImages with group commit of the audit entries', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function run(paths: string[], options: { failFirstGroup?: boolean; measure?: boolean } = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), 'vigil-predict-'));
    dirs.push(dataDir);
    const audit = new RecordingAuditLog(SqliteAuditLog.open({ dataDir, clock: createSteppingClock() }));
    audit.failNextGroup = options.failFirstGroup ?? false;
    const bundle = await new FsModelBundleSource().loadBundle(DEMO_MODEL);
    const batches: number[] = [];
    const deps: PredictDependencies = {
      ...fakeInputs(),
      hasher: nodeHasher,
      pseudonymizer: { studyKey: (identifier) => `st-${nodeHasher.sha256Hex(identifier).slice(0, 32)}` },
      audit,
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      chain: new InferenceChain(bundle, {
        executionProvider: 'cpu',
        run: (input, batchSize) => {
          batches.push(batchSize);
          // One logit per image, from its first pixel: deterministic, and different per image.
          const data = Float32Array.from({ length: batchSize }, (_, b) => (input[b * 28 * 28] as number) * 3);
          // The demo manifest declares a 64-value embedding: the session gives it too (the image's first pixels).
          const embedding = Float32Array.from({ length: batchSize * 64 }, (_, i) => input[Math.floor(i / 64) * 28 * 28 + (i % 64)] as number);
          return Promise.resolve({ logit: { data, dims: [batchSize, 1] }, embedding: { data: embedding, dims: [batchSize, 64] } });
        },
        close: () => Promise.resolve(),
      }),
      configHash: 'cd'.repeat(32),
      origin: 'cli',
      batchSize: 2,
      declared: { modality: 'CR', bodyPartExamined: 'CHEST', viewPosition: 'PA', patientAgeYears: 3 },
      ...(options.measure === true ? { measure: true } : {}),
    };
    const results: PredictResult[] = [];
    const notDurableWhenEmitted: string[] = [];
    await predictImages(deps, paths, (result) => {
      if (result.auditId !== null && !audit.durable.has(result.auditId)) notDurableWhenEmitted.push(result.auditId);
      results.push(result);
    });
    const entries = [];
    for (let i = 0; i < (await audit.size()); i++) entries.push(await audit.get(`a-${i}`));
    const verification = await audit.verify();
    await audit.close();
    return { results, entries, groups: audit.groups, batches, notDurableWhenEmitted, verification };
  }

  const paths = ['ok-1', 'flat', 'ok-2', 'unreadable', 'text', 'ok-3'];

  it('measures, for monitoring, how a DICOM image was acquired as its header states it, and nothing of the kind for a PNG/JPEG', async () => {
    const { results } = await run(['dcm-1', 'ok-1'], { measure: true });
    // Decided or refused by the gate, a judged image is measured (and monitored) all the same.
    expect(results.map((r) => r.status === 'error')).toEqual([false, false]);
    expect(results.map((r) => r.measures?.acquisition)).toEqual([{ softwareVersions: ['VX 3.1', 'PLC 2'], kvp: 84.5, pixelSpacingMm: [0.143, 0.143] }, {}]);
    expect(results.map((r) => r.measures?.encoding.transferSyntax)).toEqual(['1.2.840.10008.1.2.1', null]);
  });

  it('writes the entries in the order one-by-one appends gave them, a group per batch, and emits in input order once durable', async () => {
    const { results, entries, groups, batches, notDurableWhenEmitted, verification } = await run(paths);
    expect(batches).toEqual([2, 1]);
    expect(results.map((r) => [r.input.file, r.status, r.auditId])).toEqual([
      ['ok-1', 'decided', 'a-1'],
      // Rejected while ok-1 waited for the model: its entry came first, as when it was appended at once.
      ['flat', 'rejected', 'a-0'],
      ['ok-2', 'decided', 'a-2'],
      ['unreadable', 'error', 'a-3'],
      ['text', 'error', 'a-4'],
      ['ok-3', 'decided', 'a-5'],
    ]);
    expect(groups.map((g) => g.map((e) => (e.type === 'decision' ? e.status : e.type)))).toEqual([
      ['rejected', 'decided', 'decided'],
      ['error'],
      ['error'],
      ['decided'],
    ]);
    expect(notDurableWhenEmitted).toEqual([]);
    expect(verification).toMatchObject({ ok: true, treeSize: 6, checkedTreeHeads: 6 });
    for (const result of results) {
      const entry = entries.find((e) => e?.auditId === result.auditId);
      if (result.status === 'error') expect(entry?.event).toMatchObject({ type: 'error', code: result.error?.code });
      else expect(entry?.event).toMatchObject({ type: 'decision', status: result.status, studyKey: result.studyKey, outputs: result.outputs });
    }
  });

  it('falls back to one append per outcome when a group cannot be written, with the same entries and results', async () => {
    const grouped = await run(paths);
    const fallback = await run(paths, { failFirstGroup: true });
    expect(fallback.results).toEqual(grouped.results);
    expect(fallback.entries).toEqual(grouped.entries);
    expect(fallback.groups.slice(0, 3).map((g) => g.length)).toEqual([1, 1, 1]);
    expect(fallback.notDurableWhenEmitted).toEqual([]);
    expect(fallback.verification).toMatchObject({ ok: true, treeSize: 6 });
  });
});
