import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../domain/audit/audit-event.js';
import { canonicalAuditEntry, hashAuditEntry } from '../../domain/audit/audit-leaf.js';
import { bytesToHex } from '../../domain/audit/hex.js';
import { merkleTreeHash } from '../../domain/audit/merkle.js';
import { verifyInclusionProof } from '../../domain/audit/verify-inclusion-proof.js';
import { isPlatformError, type ErrorCode } from '../../domain/errors.js';
import type { AuditReceipt } from '../../ports/audit-log.js';
import { createSteppingClock, describeAuditLog, sampleAuditEvents } from '../../ports/audit-log.contract.js';
import { AUDIT_SIGNING_KEY_FILE, createAuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { createTestSchema, POSTGRES_SKIP_REASON, postgresSkipNote, type TestSchema } from './internal/test-database.js';
import type { PostgresPool } from './open-postgres.js';
import { PostgresAuditLog } from './postgres-audit-log.js';

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();
const skip = POSTGRES_SKIP_REASON !== undefined;

if (!skip) {
  describeAuditLog('PostgreSQL', async (clock) => {
    const schema = await createTestSchema();
    const pool = await schema.open();
    return { log: await PostgresAuditLog.create(pool, { clock, signingKey: createAuditSigningKey() }), dispose: () => schema.drop() };
  });
}

const EVENTS = sampleAuditEvents();
const eventAt = (i: number): AuditEvent => EVENTS[i % EVENTS.length] as AuditEvent;

async function errorOf(run: () => Promise<unknown>): Promise<{ code: ErrorCode; details: unknown } | undefined> {
  try {
    await run();
  } catch (error) {
    if (isPlatformError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  return undefined;
}

describe.skipIf(skip)(`PostgresAuditLog${postgresSkipNote}`, () => {
  let schema: TestSchema;
  const dirs: string[] = [];
  afterEach(async () => {
    await schema.drop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-pg-audit-'));
    dirs.push(dir);
    return dir;
  };

  /** A log of n entries on a fresh schema, with the pool and key it used. */
  async function filledLog(n: number): Promise<{ pool: PostgresPool; key: ReturnType<typeof createAuditSigningKey>; receipts: AuditReceipt[] }> {
    schema = await createTestSchema();
    const pool = await schema.open();
    const key = createAuditSigningKey();
    const log = await PostgresAuditLog.create(pool, { clock: createSteppingClock(), signingKey: key });
    const receipts: AuditReceipt[] = [];
    for (let i = 0; i < n; i++) receipts.push(await log.append(eventAt(i)));
    await log.close();
    return { pool, key, receipts };
  }

  /** The store as its owner sees it: the append-only triggers off, in one transaction. */
  async function tamper(pool: PostgresPool, sql: string, values: unknown[] = []): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE audit_entries DISABLE TRIGGER USER');
      await client.query('ALTER TABLE audit_tree_heads DISABLE TRIGGER USER');
      await client.query(sql, values);
      await client.query('ALTER TABLE audit_entries ENABLE TRIGGER USER');
      await client.query('ALTER TABLE audit_tree_heads ENABLE TRIGGER USER');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  }

  it('creates the signing key (0600) in the data folder, reopens with it, and continues the same tree', async () => {
    schema = await createTestSchema();
    const pool = await schema.open();
    const dataDir = tempDir();
    const clock = createSteppingClock();
    const first = await PostgresAuditLog.open({ pool, dataDir, clock });
    const receipts = [await first.append(eventAt(0)), await first.append(eventAt(1))];
    expect(statSync(join(dataDir, AUDIT_SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = await PostgresAuditLog.open({ pool, dataDir, clock });
    receipts.push(await again.append(eventAt(2)));
    const leaves = receipts.map((r) => Buffer.from(r.leafHash, 'hex'));
    expect(receipts.at(-1)?.rootHash).toBe(bytesToHex(merkleTreeHash(sha256, leaves)));
    expect(await again.verify()).toMatchObject({ ok: true, treeSize: 3, checkedTreeHeads: 3 });
  });

  it('refuses to open with another key than the one the log is signed with, and will not create one for a log that has history', async () => {
    const { pool } = await filledLog(2);
    const other = createAuditSigningKey();
    expect(await errorOf(() => PostgresAuditLog.create(pool, { clock: createSteppingClock(), signingKey: other }))).toMatchObject({
      code: 'STORE_OPEN_FAILED',
    });
    // A server whose data folder has no key file: it must be given the cluster's key, not make its own.
    expect(await errorOf(() => PostgresAuditLog.open({ pool, dataDir: tempDir(), clock: createSteppingClock() }))).toMatchObject({ code: 'STORE_OPEN_FAILED' });
  });

  it('refuses updates, deletes and truncation through SQL (append-only triggers)', async () => {
    const { pool } = await filledLog(2);
    await expect(pool.query("UPDATE audit_entries SET body = '{}' WHERE idx = 0")).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_entries WHERE idx = 1')).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_tree_heads')).rejects.toThrow(/append-only/);
    await expect(pool.query('TRUNCATE audit_entries, audit_tree_heads')).rejects.toThrow(/append-only/);
    await expect(pool.query('DELETE FROM audit_signing_key')).rejects.toThrow(/append-only/);
  });

  it('takes in entries another pool (another process) appended', async () => {
    schema = await createTestSchema();
    const key = createAuditSigningKey();
    const clock = createSteppingClock();
    const a = await PostgresAuditLog.create(await schema.open(), { clock, signingKey: key });
    const b = await PostgresAuditLog.create(await schema.open(), { clock, signingKey: key });
    const receipts: AuditReceipt[] = [];
    for (let i = 0; i < 10; i++) receipts.push(await (i % 3 === 0 ? b : a).append(eventAt(i)));
    expect(receipts.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(receipts.at(-1)?.rootHash).toBe(
      bytesToHex(
        merkleTreeHash(
          sha256,
          receipts.map((r) => Buffer.from(r.leafHash, 'hex')),
        ),
      ),
    );
    expect(await b.verify()).toMatchObject({ ok: true, treeSize: 10, checkedTreeHeads: 10 });
  });

  describe('tamper evidence (the checks are the shared scan, domain/audit/audit-log-scan.ts; these show the rows reach it)', () => {
    const otherEvent: AuditEvent = { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'forged' };
    const reopen = async (pool: PostgresPool, key: ReturnType<typeof createAuditSigningKey>): Promise<PostgresAuditLog> =>
      PostgresAuditLog.create(pool, { clock: createSteppingClock(), signingKey: key });

    it('an edited body: leaf_hash_mismatch at that index', async () => {
      const { pool, key } = await filledLog(12);
      const entry = { auditId: 'a-7', index: 7, time: (await (await reopen(pool, key)).get('a-7'))?.time ?? '', event: otherEvent };
      await tamper(pool, 'UPDATE audit_entries SET body = $1, type = $2 WHERE idx = 7', [canonicalAuditEntry(entry), 'error']);
      expect(await (await reopen(pool, key)).verify()).toEqual({
        ok: false,
        treeSize: 12,
        firstBadIndex: 7,
        firstBadAuditId: 'a-7',
        reason: 'leaf_hash_mismatch',
      });
    });

    it('an edited body with its leaf hash: tree_head_mismatch; with every root recomputed too: tree_head_signature_invalid', async () => {
      const { pool, key } = await filledLog(12);
      const log = await reopen(pool, key);
      const entry = { auditId: 'a-7', index: 7, time: (await log.get('a-7'))?.time ?? '', event: otherEvent };
      await tamper(pool, 'UPDATE audit_entries SET body = $1, type = $2, leaf_hash = $3 WHERE idx = 7', [
        canonicalAuditEntry(entry),
        'error',
        Buffer.from(hashAuditEntry(sha256, entry)),
      ]);
      expect(await log.verify()).toMatchObject({ ok: false, firstBadIndex: 7, reason: 'tree_head_mismatch' });
      expect(await errorOf(() => log.prove('a-3'))).toMatchObject({ code: 'AUDIT_VERIFY_FAILED' });
      const leaves = (await pool.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM audit_entries ORDER BY idx')).rows.map((r) => r.leaf_hash);
      for (let size = 1; size <= leaves.length; size++) {
        await tamper(pool, 'UPDATE audit_tree_heads SET root_hash = $1 WHERE tree_size = $2', [Buffer.from(merkleTreeHash(sha256, leaves, 0, size)), size]);
      }
      expect(await log.verify()).toMatchObject({ ok: false, firstBadIndex: 7, reason: 'tree_head_signature_invalid' });
    });

    it('a deleted entry: missing_entry, and a process opening the log refuses to append', async () => {
      const { pool, key } = await filledLog(12);
      await tamper(pool, 'DELETE FROM audit_entries WHERE idx = 9');
      const log = await reopen(pool, key);
      expect(await log.verify()).toEqual({ ok: false, treeSize: 12, firstBadIndex: 9, firstBadAuditId: 'a-9', reason: 'missing_entry' });
      expect(await errorOf(() => log.append(eventAt(0)))).toEqual({ code: 'STORE_WRITE_FAILED', details: { reason: 'missing_entry' } });
    });

    it('a log truncated while open: the writer notices at its next append', async () => {
      const { pool, key } = await filledLog(12);
      const log = await reopen(pool, key);
      await tamper(pool, 'DELETE FROM audit_entries WHERE idx >= 10; DELETE FROM audit_tree_heads WHERE tree_size > 10');
      expect(await errorOf(() => log.append(eventAt(0)))).toEqual({ code: 'STORE_WRITE_FAILED', details: { reason: 'log_truncated' } });
    });

    it('a forged signature: tree_head_signature_invalid; an entry without a head: unsigned_entry', async () => {
      const { pool, key } = await filledLog(8);
      const log = await reopen(pool, key);
      await tamper(pool, 'DELETE FROM audit_tree_heads WHERE tree_size = 8');
      expect(await log.verify()).toMatchObject({ ok: false, firstBadIndex: 7, reason: 'unsigned_entry' });
      await tamper(pool, 'UPDATE audit_tree_heads SET signature = $1 WHERE tree_size = 5', [Buffer.alloc(64, 1)]);
      expect(await log.verify()).toMatchObject({ ok: false, treeSize: 8, firstBadIndex: 4, reason: 'tree_head_signature_invalid' });
    });
  });

  it('verifies and proves across several pages (4096 rows) of entries', async () => {
    schema = await createTestSchema();
    const pool = await schema.open();
    const log = await PostgresAuditLog.create(pool, { clock: createSteppingClock(), signingKey: createAuditSigningKey() });
    const events = Array.from({ length: 4_500 }, (_, i) => eventAt(i));
    const receipts: AuditReceipt[] = [];
    for (let i = 0; i < events.length; i += 500) receipts.push(...(await log.appendMany(events.slice(i, i + 500))));
    expect(await log.verify()).toEqual({ ok: true, treeSize: 4_500, rootHash: receipts.at(-1)?.rootHash, checkedTreeHeads: 4_500 });
    for (const id of ['a-0', 'a-4095', 'a-4096', 'a-4499']) expect(verifyInclusionProof(await log.prove(id), sha256)).toEqual({ ok: true });
  });
});
