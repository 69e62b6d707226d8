/**
 * The behaviour every `AuditLog` store must show, written once and run against each store (STYLE.md,
 * "Contract suites"), as Hono's `common.case.test.ts` runs against every router:
 *
 *   describeAuditLog('SQLite', (clock) => { const dir = …; return { log: SqliteAuditLog.open({ dataDir: dir, clock }), dispose: () => rm(dir) }; });
 *
 * Only black-box checks through the port: receipts, entries, proofs and tree heads are recomputed
 * here from the RFC 6962 definitions, never taken on the store's word. Tampering tests need raw
 * access to a store, so they live beside each store.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import { formatTreeHeadSigningInput, hashAuditEntry } from '../domain/audit/audit-leaf.js';
import { bytesToHex, hexToBytes } from '../domain/audit/hex.js';
import { merkleTreeHash } from '../domain/audit/merkle.js';
import { verifyInclusionProof } from '../domain/audit/verify-inclusion-proof.js';
import { isPlatformError, type ErrorCode } from '../domain/errors.js';
import type { AuditLog, AuditReceipt, SignedTreeHead } from './audit-log.js';
import type { Clock } from './clock.js';

export interface AuditLogFixture {
  readonly log: AuditLog;
  /** Frees what the factory made (temporary folders, connections, schemas), after `log.close()`. */
  dispose(): void | Promise<void>;
}

export type AuditLogFactory = (clock: Clock) => AuditLogFixture | Promise<AuditLogFixture>;

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();

/** Starts at 2025-01-01T00:00:00Z and moves 1.5 s per reading. */
export function createSteppingClock(startMs = Date.UTC(2025, 0, 1), stepMs = 1_500): Clock & { readonly readings: string[] } {
  let next = startMs;
  const readings: string[] = [];
  return {
    readings,
    now() {
      const date = new Date(next);
      next += stepMs;
      readings.push(date.toISOString());
      return date;
    },
  };
}

/** One event of each type, with and without optional fields; no real identifiers. */
export function sampleAuditEvents(): AuditEvent[] {
  const model = { id: 'chest-xray-triage', version: '1.2.0', sha256: 'ab'.repeat(32) };
  return [
    { type: 'config_loaded', configHash: 'cd'.repeat(32), vigilVersion: '0.1.0' },
    { type: 'model_loaded', model, executionProvider: 'cpu' },
    {
      type: 'decision',
      studyKey: 'st-0123456789abcdef0123456789abcdef',
      pixelSha256: 'ef'.repeat(32),
      frameIndex: 0,
      model,
      configHash: 'cd'.repeat(32),
      gate: {
        verdict: 'warn',
        reasons: [
          { code: 'LOW_CONTRAST', verdict: 'warn', measured: 0.125, threshold: 0.2 },
          { code: 'MODALITY', verdict: 'pass', measured: 'DX', threshold: 'CR|DX' },
        ],
      },
      outputs: [
        { finding: 'pneumothorax', probability: 0.8125, decision: 'positive' },
        { finding: 'effusion', probability: 1e-7, decision: 'negative' },
        { finding: 'nodule', probability: 0.5, decision: 'refer' },
      ],
      status: 'decided',
    },
    {
      type: 'decision',
      studyKey: 'st-ffffffffffffffffffffffffffffffff',
      pixelSha256: '00'.repeat(32),
      frameIndex: 29,
      model,
      configHash: 'cd'.repeat(32),
      gate: { verdict: 'reject', reasons: [{ code: 'NOT_A_CHEST_RADIOGRAPH', verdict: 'reject' }] },
      outputs: [],
      status: 'rejected',
    },
    { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'ingest' },
    { type: 'error', code: 'MODEL_INFERENCE_FAILED', stage: 'infer', studyKey: 'st-0123456789abcdef0123456789abcdef' },
  ];
}

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
// -0 is written as 0 (canonical JSON, RFC 8785 §3.2.2.3), so it is left out of round-trip inputs.
const withoutNegativeZero = (x: number): number => (x === 0 ? 0 : x);
const finite = fc.double({ noNaN: true, noDefaultInfinity: true }).map(withoutNegativeZero);
const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
const verdict = fc.constantFrom('pass' as const, 'warn' as const, 'reject' as const);
const modelArb = fc.record({ id: text, version: text, sha256: hex64 });

/** Any valid event, including odd but legal strings and numbers. */
export const auditEventArbitrary: fc.Arbitrary<AuditEvent> = fc.oneof(
  fc.record({ type: fc.constant('config_loaded' as const), configHash: text, vigilVersion: text }),
  fc.record({ type: fc.constant('model_loaded' as const), model: modelArb, executionProvider: text }),
  fc.record({ type: fc.constant('error' as const), code: text, studyKey: text, stage: text }, { requiredKeys: ['type', 'code', 'stage'] }),
  fc.record({
    type: fc.constant('decision' as const),
    studyKey: text,
    pixelSha256: hex64,
    frameIndex: fc.nat(),
    model: modelArb,
    configHash: text,
    gate: fc.record({
      verdict,
      reasons: fc.array(
        fc.record({ code: text, verdict, measured: fc.oneof(finite, text), threshold: fc.oneof(finite, text) }, { requiredKeys: ['code', 'verdict'] }),
        { maxLength: 3 },
      ),
    }),
    outputs: fc.array(
      fc.record({
        finding: text,
        probability: fc.double({ min: 0, max: 1, noNaN: true }).map(withoutNegativeZero),
        decision: fc.constantFrom('positive' as const, 'negative' as const, 'refer' as const),
      }),
      { maxLength: 3 },
    ),
    status: fc.constantFrom('decided' as const, 'rejected' as const),
  }),
  fc.record({
    type: fc.constant('criteria_registered' as const),
    sha256: hex64,
    criteria: fc.array(text, { maxLength: 4 }),
    registeredBy: fc.constantFrom('register' as const, 'evaluation' as const),
  }),
  fc.record({
    type: fc.constant('evaluation_completed' as const),
    startedAuditId: text,
    model: fc.option(modelArb, { nil: null }),
    datasetSha256: hex64,
    criteriaSha256: fc.option(hex64, { nil: null }),
    criteriaAuditId: fc.option(text, { nil: null }),
    reportSha256: hex64,
    predictionsSha256: hex64,
    cases: fc.nat(),
    criteria: fc.constantFrom('passed' as const, 'failed' as const, 'not_evaluable' as const, null),
  }),
);

async function errorCodeOf(run: () => Promise<unknown>): Promise<ErrorCode | 'no error' | 'not a PlatformError'> {
  try {
    await run();
    return 'no error';
  } catch (error) {
    return isPlatformError(error) ? error.code : 'not a PlatformError';
  }
}

/** Appends in order, one at a time (as a single writer does). */
export async function appendAll(log: AuditLog, events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
  const receipts: AuditReceipt[] = [];
  for (const event of events) receipts.push(await log.append(event));
  return receipts;
}

/** Ed25519 check of a tree head against the key it names (SPKI DER base64), as an outside verifier would do it. */
export function isTreeHeadSignatureValid(head: SignedTreeHead): boolean {
  const publicKey = createPublicKey({ key: Buffer.from(head.publicKey, 'base64'), format: 'der', type: 'spki' });
  const message = Buffer.from(formatTreeHeadSigningInput(head.treeSize, head.rootHash, head.time), 'utf8');
  return verify(null, message, publicKey, Buffer.from(head.signature, 'base64'));
}

export function describeAuditLog(name: string, factory: AuditLogFactory): void {
  describe(`AuditLog contract: ${name}`, () => {
    let open: AuditLogFixture[] = [];
    const start = async (clock: Clock = createSteppingClock()): Promise<AuditLog> => {
      const fixture = await factory(clock);
      open.push(fixture);
      return fixture.log;
    };
    const closeAll = async (): Promise<void> => {
      for (const fixture of open) {
        await fixture.log.close();
        await fixture.dispose();
      }
      open = [];
    };
    afterEach(closeAll);

    it('starts empty and verifies as the empty tree', async () => {
      const log = await start();
      expect(await log.size()).toBe(0);
      expect(await log.get('a-0')).toBeUndefined();
      expect(await log.verify()).toEqual({ ok: true, treeSize: 0, rootHash: bytesToHex(merkleTreeHash(sha256, [])), checkedTreeHeads: 0 });
      expect(await errorCodeOf(() => log.prove('a-0'))).toBe('AUDIT_ENTRY_NOT_FOUND');
    });

    it('stores each event as given, under a-<index>, at the clock time', async () => {
      const clock = createSteppingClock();
      const log = await start(clock);
      const events = sampleAuditEvents();
      const receipts = await appendAll(log, events);
      expect(receipts.map((r) => [r.auditId, r.index, r.treeSize])).toEqual(events.map((_, i) => [`a-${i}`, i, i + 1]));
      expect(await log.size()).toBe(events.length);
      for (const [i, event] of events.entries()) {
        expect(await log.get(`a-${i}`)).toEqual({ auditId: `a-${i}`, index: i, time: clock.readings[i], event });
      }
      expect(await log.get('a-999')).toBeUndefined();
      expect(await log.get('')).toBeUndefined();
    });

    it('gives receipts whose leaf and root hashes follow RFC 6962 over the canonical entries', async () => {
      const log = await start();
      const leaves: Uint8Array[] = [];
      for (const event of [...sampleAuditEvents(), ...sampleAuditEvents()]) {
        const receipt = await log.append(event);
        const entry = await log.get(receipt.auditId);
        if (entry === undefined) throw new Error('appended entry not found');
        leaves.push(hashAuditEntry(sha256, entry));
        expect(receipt.leafHash).toBe(bytesToHex(hashAuditEntry(sha256, entry)));
        expect(receipt.rootHash).toBe(bytesToHex(merkleTreeHash(sha256, leaves)));
      }
      const verification = await log.verify();
      expect(verification).toEqual({
        ok: true,
        treeSize: leaves.length,
        rootHash: bytesToHex(merkleTreeHash(sha256, leaves)),
        checkedTreeHeads: leaves.length,
      });
    });

    it('proves every entry against a signed tree head for the whole log', async () => {
      const log = await start();
      const events = [...sampleAuditEvents(), ...sampleAuditEvents(), sampleAuditEvents()[0] as AuditEvent];
      const receipts = await appendAll(log, events);
      const last = receipts.at(-1);
      for (const receipt of receipts) {
        const proof = await log.prove(receipt.auditId);
        expect(verifyInclusionProof(proof, sha256)).toEqual({ ok: true });
        expect(proof).toMatchObject({
          auditId: receipt.auditId,
          leafIndex: receipt.index,
          leafHash: receipt.leafHash,
          treeSize: events.length,
          rootHash: last?.rootHash,
        });
        expect(proof.entry).toEqual(await log.get(receipt.auditId));
        expect(proof.treeHead).toMatchObject({ treeSize: events.length, rootHash: last?.rootHash });
        expect(isTreeHeadSignatureValid(proof.treeHead)).toBe(true);
        expect(hexToBytes(proof.treeHead.rootHash)).toHaveLength(32);
      }
      const proof = await log.prove('a-3');
      expect(isTreeHeadSignatureValid({ ...proof.treeHead, treeSize: proof.treeHead.treeSize + 1 })).toBe(false);
      expect(isTreeHeadSignatureValid({ ...proof.treeHead, time: '2030-01-01T00:00:00.000Z' })).toBe(false);
    });

    it('never echoes a malformed audit id into error details (they are logged)', async () => {
      const log = await start();
      await log.append(sampleAuditEvents()[0] as AuditEvent);
      try {
        await log.prove('SYNTHETIC^PATIENT');
        throw new Error('expected prove to throw');
      } catch (error) {
        if (!isPlatformError(error)) throw error;
        expect(error.code).toBe('AUDIT_ENTRY_NOT_FOUND');
        expect(JSON.stringify(error.details)).not.toContain('SYNTHETIC');
      }
    });

    it('signs every tree head with the same key', async () => {
      const log = await start();
      await log.append(sampleAuditEvents()[0] as AuditEvent);
      const first = (await log.prove('a-0')).treeHead.publicKey;
      await log.append(sampleAuditEvents()[1] as AuditEvent);
      expect((await log.prove('a-0')).treeHead.publicKey).toBe(first);
    });

    it('rejects an event with no canonical JSON form and stays usable', async () => {
      const log = await start();
      await log.append(sampleAuditEvents()[0] as AuditEvent);
      const bad = { ...(sampleAuditEvents()[2] as AuditEvent), outputs: [{ finding: 'x', probability: Number.NaN, decision: 'refer' }] } as AuditEvent;
      expect(await errorCodeOf(() => log.append(bad))).toBe('STORE_WRITE_FAILED');
      expect(await log.size()).toBe(1);
      expect((await log.append(sampleAuditEvents()[1] as AuditEvent)).index).toBe(1);
      expect(await log.verify()).toMatchObject({ ok: true, treeSize: 2 });
    });

    it('appendMany of no events writes nothing and returns no receipts', async () => {
      const clock = createSteppingClock();
      const log = await start(clock);
      expect(await log.appendMany([])).toEqual([]);
      expect(await log.size()).toBe(0);
      await log.append(sampleAuditEvents()[0] as AuditEvent);
      expect(await log.appendMany([])).toEqual([]);
      expect(await log.size()).toBe(1);
      expect(clock.readings).toHaveLength(1);
      expect(await log.verify()).toMatchObject({ ok: true, treeSize: 1, checkedTreeHeads: 1 });
    });

    it('appendMany gives the receipts, entries, roots and tree heads of appending one by one', async () => {
      const events = sampleAuditEvents();
      const one = await start(createSteppingClock());
      const many = await start(createSteppingClock());
      // A first event alone, then the rest in two groups, against the same events one at a time.
      const sequential = await appendAll(one, [...events, ...events]);
      const grouped = [...(await many.appendMany(events.slice(0, 1))), ...(await many.appendMany(events.slice(1))), ...(await many.appendMany(events))];
      expect(grouped).toEqual(sequential);
      for (const receipt of sequential) expect(await many.get(receipt.auditId)).toEqual(await one.get(receipt.auditId));
      const verification = await many.verify();
      expect(verification).toEqual(await one.verify());
      expect(verification).toMatchObject({ ok: true, treeSize: 2 * events.length, checkedTreeHeads: 2 * events.length });
      for (const receipt of grouped) {
        const proof = await many.prove(receipt.auditId);
        expect(verifyInclusionProof(proof, sha256)).toEqual({ ok: true });
        expect(isTreeHeadSignatureValid(proof.treeHead)).toBe(true);
        expect(proof.treeHead).toMatchObject({ treeSize: 2 * events.length, rootHash: grouped.at(-1)?.rootHash });
      }
      // And appends keep going after a group.
      expect(await many.append(events[0] as AuditEvent)).toEqual(await one.append(events[0] as AuditEvent));
    });

    it('appendMany is all or nothing: one event without a canonical form writes none of them', async () => {
      const log = await start();
      await log.append(sampleAuditEvents()[0] as AuditEvent);
      const bad = { ...(sampleAuditEvents()[2] as AuditEvent), outputs: [{ finding: 'x', probability: Number.NaN, decision: 'refer' }] } as AuditEvent;
      expect(await errorCodeOf(() => log.appendMany([sampleAuditEvents()[1] as AuditEvent, bad]))).toBe('STORE_WRITE_FAILED');
      expect(await log.size()).toBe(1);
      expect((await log.appendMany([sampleAuditEvents()[1] as AuditEvent]))[0]?.index).toBe(1);
      expect(await log.verify()).toMatchObject({ ok: true, treeSize: 2 });
    });

    test.prop([fc.array(fc.array(auditEventArbitrary, { maxLength: 5 }), { minLength: 1, maxLength: 4 })], { numRuns: 10 })(
      'appendMany in any grouping equals sequential appends',
      async (groups) => {
        try {
          const one = await start(createSteppingClock());
          const many = await start(createSteppingClock());
          const sequential = await appendAll(one, groups.flat());
          const grouped: AuditReceipt[] = [];
          for (const group of groups) grouped.push(...(await many.appendMany(group)));
          expect(grouped).toEqual(sequential);
          expect(await many.verify()).toEqual(await one.verify());
        } finally {
          await closeAll();
        }
      },
    );

    test.prop([fc.array(auditEventArbitrary, { minLength: 1, maxLength: 12 })], { numRuns: 15 })(
      'round-trips any valid events and verifies',
      async (events) => {
        try {
          const log = await start();
          const receipts = await appendAll(log, events);
          for (const [i, event] of events.entries()) expect((await log.get(`a-${i}`))?.event).toEqual(event);
          expect(await log.verify()).toMatchObject({ ok: true, treeSize: events.length, rootHash: receipts.at(-1)?.rootHash });
          const pick = receipts[Math.floor(events.length / 2)];
          if (pick !== undefined) expect(verifyInclusionProof(await log.prove(pick.auditId), sha256)).toEqual({ ok: true });
        } finally {
          await closeAll();
        }
      },
    );
  });
}
