import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AuditEntry, AuditEvent } from '../../domain/audit/audit-event.js';
import { canonicalAuditEntry, formatTreeHeadSigningInput, hashAuditEntry } from '../../domain/audit/audit-leaf.js';
import { bytesToHex } from '../../domain/audit/hex.js';
import { CompactRange, merkleTreeHash } from '../../domain/audit/merkle.js';
import { verifyInclusionProof } from '../../domain/audit/verify-inclusion-proof.js';
import { isPlatformError, type ErrorCode } from '../../domain/errors.js';
import type { AuditReceipt } from '../../ports/audit-log.js';
import { createSteppingClock, describeAuditLog, sampleAuditEvents } from '../../ports/audit-log.contract.js';
import type { Clock } from '../../ports/clock.js';
import { verifyTreeHeadSignature } from '../crypto-node/verify-tree-head.js';
import { AUDIT_SIGNING_KEY_FILE, createAuditSigningKey, loadOrCreateAuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { DEFAULT_SQLITE_FILE_NAME, openSqliteDatabase } from './open-sqlite.js';
import { SqliteAuditLog } from './sqlite-audit-log.js';

const sha256 = (bytes: Uint8Array): Uint8Array => createHash('sha256').update(bytes).digest();

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describeAuditLog('SQLite', (clock) => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-audit-contract-'));
  return { log: SqliteAuditLog.open({ dataDir: dir, clock }), dispose: () => rmSync(dir, { recursive: true, force: true }) };
});

const EVENTS = sampleAuditEvents();
function eventAt(i: number): AuditEvent {
  return EVENTS[i % EVENTS.length] as AuditEvent;
}

/** Appends n events; returns their receipts. */
async function fill(log: SqliteAuditLog, n: number, offset = 0): Promise<AuditReceipt[]> {
  const receipts: AuditReceipt[] = [];
  for (let i = 0; i < n; i++) receipts.push(await log.append(eventAt(offset + i)));
  return receipts;
}

async function errorOf(run: () => unknown): Promise<{ code: ErrorCode; details: unknown } | undefined> {
  try {
    await run();
  } catch (error) {
    if (isPlatformError(error)) return { code: error.code, details: error.details };
    throw error;
  }
  return undefined;
}

/**
 * The store as an attacker with the file sees it: a separate connection with the append-only
 * triggers dropped (they guard against application bugs, not against someone with the file).
 */
function tamper(dir: string, edit: (db: Database.Database) => void): void {
  const db = new Database(join(dir, DEFAULT_SQLITE_FILE_NAME));
  try {
    for (const trigger of [
      'audit_entries_append_only_update',
      'audit_entries_append_only_delete',
      'audit_tree_heads_append_only_update',
      'audit_tree_heads_append_only_delete',
    ]) {
      db.exec(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    edit(db);
  } finally {
    db.close();
  }
}

function bodyOf(db: Database.Database, idx: number): Record<string, unknown> {
  const body = db.prepare<[number], string>('SELECT body FROM audit_entries WHERE idx = ?').pluck().get(idx);
  if (body === undefined) throw new Error(`no entry ${idx}`);
  return JSON.parse(body) as Record<string, unknown>;
}

/** Rewrites entry idx's event and, like a careful attacker, its leaf hash too. */
function rewriteEntry(db: Database.Database, idx: number, event: AuditEvent, options: { updateLeafHash: boolean }): void {
  const entry = { ...bodyOf(db, idx), event } as AuditEntry;
  const body = canonicalAuditEntry(entry);
  db.prepare('UPDATE audit_entries SET body = ?, type = ? WHERE idx = ?').run(body, event.type, idx);
  if (options.updateLeafHash) db.prepare('UPDATE audit_entries SET leaf_hash = ? WHERE idx = ?').run(Buffer.from(hashAuditEntry(sha256, entry)), idx);
}

/** Recomputes every stored tree head root from the stored leaf hashes, as one without the key can. */
function recomputeHeadRoots(db: Database.Database): void {
  const leaves = db.prepare<[], Buffer>('SELECT leaf_hash FROM audit_entries ORDER BY idx').pluck().all();
  const range = new CompactRange(sha256);
  const update = db.prepare('UPDATE audit_tree_heads SET root_hash = ? WHERE tree_size = ?');
  for (const leaf of leaves) {
    range.append(leaf);
    update.run(Buffer.from(range.root()), range.size);
  }
}

function openLog(dir: string, clock: Clock = createSteppingClock()): SqliteAuditLog {
  return SqliteAuditLog.open({ dataDir: dir, clock });
}

describe('SqliteAuditLog', () => {
  it('keeps one row per entry and one signed tree head per append, with the signing key owner-only', async () => {
    const dir = tempDir();
    const log = openLog(dir);
    const receipts = await fill(log, 5);
    await log.close();
    const db = new Database(join(dir, DEFAULT_SQLITE_FILE_NAME), { readonly: true });
    const rows = db
      .prepare<[], { idx: number; audit_id: string; type: string; leaf_hash: Buffer }>('SELECT idx, audit_id, type, leaf_hash FROM audit_entries ORDER BY idx')
      .all();
    expect(rows.map((r) => [r.idx, r.audit_id, r.type, r.leaf_hash.toString('hex')])).toEqual(
      receipts.map((r, i) => [i, r.auditId, eventAt(i).type, r.leafHash]),
    );
    const heads = db
      .prepare<[], { tree_size: number; root_hash: Buffer; signature: Buffer }>(
        'SELECT tree_size, root_hash, signature FROM audit_tree_heads ORDER BY tree_size',
      )
      .all();
    expect(heads.map((h) => [h.tree_size, h.root_hash.toString('hex'), h.signature.length])).toEqual(receipts.map((r) => [r.treeSize, r.rootHash, 64]));
    db.close();
    expect(statSync(join(dir, AUDIT_SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('refuses updates and deletes through SQL (append-only triggers)', async () => {
    const dir = tempDir();
    const log = openLog(dir);
    await fill(log, 2);
    await log.close();
    const db = new Database(join(dir, DEFAULT_SQLITE_FILE_NAME));
    expect(() => db.prepare("UPDATE audit_entries SET body = '{}' WHERE idx = 0").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_entries WHERE idx = 1').run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit_tree_heads').run()).toThrow(/append-only/);
    db.close();
  });

  describe('reopening', () => {
    it('rebuilds the compact range from stored leaf hashes and continues with the same roots', async () => {
      const dir = tempDir();
      const clock = createSteppingClock();
      let log = openLog(dir, clock);
      const receipts = await fill(log, 37);
      await log.close();
      log = openLog(dir, clock);
      expect(await log.size()).toBe(37);
      receipts.push(...(await fill(log, 30, 37)));
      const leaves = receipts.map((r) => Buffer.from(r.leafHash, 'hex'));
      receipts.forEach((r, i) => expect(r.rootHash).toBe(bytesToHex(merkleTreeHash(sha256, leaves, 0, i + 1))));

      // The same events at the same times in one uninterrupted log give the same tree.
      const straight = openLog(tempDir(), createSteppingClock());
      expect((await fill(straight, 67)).map((r) => r.rootHash)).toEqual(receipts.map((r) => r.rootHash));
      await straight.close();

      expect(await log.verify()).toEqual({ ok: true, treeSize: 67, rootHash: receipts.at(-1)?.rootHash, checkedTreeHeads: 67 });
      expect(verifyInclusionProof(await log.prove('a-5'), sha256)).toEqual({ ok: true });
      await log.close();
    });

    it('scans in pages: verify, prove and reopen across several thousand entries', async () => {
      const dir = tempDir();
      // Durability is not under test here: turn off fsync to build the log quickly.
      const db = openSqliteDatabase({ dataDir: dir });
      db.pragma('synchronous = OFF');
      const key = createAuditSigningKey();
      let log = new SqliteAuditLog(db, { clock: createSteppingClock(), signingKey: key });
      const receipts = await fill(log, 9_000);
      const reopened = new SqliteAuditLog(db, { clock: createSteppingClock(Date.UTC(2026, 0, 1)), signingKey: key });
      receipts.push(await reopened.append(eventAt(1)));
      log = reopened;
      expect(await log.verify()).toEqual({ ok: true, treeSize: 9_001, rootHash: receipts.at(-1)?.rootHash, checkedTreeHeads: 9_001 });
      for (const id of ['a-0', 'a-4095', 'a-4096', 'a-8191', 'a-8192', 'a-9000']) {
        const proof = await log.prove(id);
        expect(verifyInclusionProof(proof, sha256)).toEqual({ ok: true });
        expect(proof.treeSize).toBe(9_001);
      }
      db.close();
    });

    it('refuses to create a new signing key for a log that has signed tree heads', async () => {
      const dir = tempDir();
      const log = openLog(dir);
      await fill(log, 1);
      await log.close();
      rmSync(join(dir, AUDIT_SIGNING_KEY_FILE));
      expect((await errorOf(() => openLog(dir)))?.code).toBe('STORE_OPEN_FAILED');
    });
  });

  it('takes in entries another writer appended to the same database', async () => {
    const dir = tempDir();
    const clock = createSteppingClock();
    const a = openLog(dir, clock);
    const b = openLog(dir, clock);
    const receipts: AuditReceipt[] = [];
    for (let i = 0; i < 10; i++) receipts.push(await (i % 3 === 0 ? b : a).append(eventAt(i)));
    expect(receipts.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const leaves = receipts.map((r) => Buffer.from(r.leafHash, 'hex'));
    expect(receipts.at(-1)?.rootHash).toBe(bytesToHex(merkleTreeHash(sha256, leaves)));
    expect(await a.verify()).toMatchObject({ ok: true, treeSize: 10 });
    await a.close();
    await b.close();
  });

  describe('tamper evidence', () => {
    /** A log of n entries, closed, ready to be tampered with and reopened. */
    async function closedLog(n: number): Promise<{ dir: string; receipts: AuditReceipt[] }> {
      const dir = tempDir();
      const log = openLog(dir);
      const receipts = await fill(log, n);
      await log.close();
      return { dir, receipts };
    }

    async function verifyAgain(dir: string): ReturnType<SqliteAuditLog['verify']> {
      const log = openLog(dir);
      try {
        return await log.verify();
      } finally {
        await log.close();
      }
    }

    const otherEvent: AuditEvent = { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'forged' };

    it('an edited body: leaf_hash_mismatch at that index', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => rewriteEntry(db, 7, otherEvent, { updateLeafHash: false }));
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 20, firstBadIndex: 7, firstBadAuditId: 'a-7', reason: 'leaf_hash_mismatch' });
    });

    it('an edited leaf hash, type, time or id column, or a body that is no longer canonical: leaf_hash_mismatch', async () => {
      const edits: ((db: Database.Database) => void)[] = [
        (db) => db.prepare('UPDATE audit_entries SET leaf_hash = ? WHERE idx = 11').run(Buffer.alloc(32)),
        (db) => db.prepare("UPDATE audit_entries SET type = 'decision' WHERE idx = 11").run(),
        (db) => db.prepare("UPDATE audit_entries SET time = '2020-01-01T00:00:00.000Z' WHERE idx = 11").run(),
        (db) => db.prepare("UPDATE audit_entries SET body = replace(body, ',', ', ') WHERE idx = 11").run(),
        (db) => db.prepare('UPDATE audit_entries SET body = substr(body, 2) WHERE idx = 11').run(),
        (db) => db.prepare("UPDATE audit_entries SET audit_id = 'a-x' WHERE idx = 11").run(),
      ];
      for (const [i, edit] of edits.entries()) {
        const { dir } = await closedLog(12);
        tamper(dir, edit);
        expect(await verifyAgain(dir), `edit ${i}`).toMatchObject({ ok: false, firstBadIndex: 11, reason: 'leaf_hash_mismatch' });
      }
    });

    it('an edited body with a matching leaf hash: tree_head_mismatch at that index (head per append)', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => rewriteEntry(db, 7, otherEvent, { updateLeafHash: true }));
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 20, firstBadIndex: 7, firstBadAuditId: 'a-7', reason: 'tree_head_mismatch' });
      const log = openLog(dir);
      expect(await errorOf(() => log.prove('a-3'))).toMatchObject({ code: 'AUDIT_VERIFY_FAILED' });
      await log.close();
    });

    it('with tree heads missing, reports the start of the range the failing head covers', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => {
        rewriteEntry(db, 7, otherEvent, { updateLeafHash: true });
        db.prepare('DELETE FROM audit_tree_heads WHERE tree_size BETWEEN 6 AND 11').run();
      });
      // Heads 1..5 verify; head 12 is the first to fail; entries 5..11 are all suspects.
      expect(await verifyAgain(dir)).toMatchObject({ ok: false, firstBadIndex: 5, reason: 'tree_head_mismatch' });
    });

    it('an edit with every tree head root recomputed: tree_head_signature_invalid at that index', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => {
        rewriteEntry(db, 7, otherEvent, { updateLeafHash: true });
        recomputeHeadRoots(db);
      });
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 20, firstBadIndex: 7, firstBadAuditId: 'a-7', reason: 'tree_head_signature_invalid' });
    });

    it('a forged tree head signature, time or root: tree_head_signature_invalid', async () => {
      const edits: ((db: Database.Database) => void)[] = [
        (db) => db.prepare('UPDATE audit_tree_heads SET signature = ? WHERE tree_size = 9').run(Buffer.alloc(64, 1)),
        (db) => db.prepare("UPDATE audit_tree_heads SET time = '2031-01-01T00:00:00.000Z' WHERE tree_size = 9").run(),
        (db) => db.prepare('UPDATE audit_tree_heads SET root_hash = ? WHERE tree_size = 9').run(Buffer.alloc(32, 7)),
      ];
      for (const [i, edit] of edits.entries()) {
        const { dir } = await closedLog(12);
        tamper(dir, edit);
        expect(await verifyAgain(dir), `edit ${i}`).toMatchObject({ ok: false, treeSize: 12, firstBadIndex: 8, reason: 'tree_head_signature_invalid' });
      }
    });

    it('a deleted entry: missing_entry at its index, and the log refuses to append', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => db.prepare('DELETE FROM audit_entries WHERE idx = 13').run());
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 20, firstBadIndex: 13, firstBadAuditId: 'a-13', reason: 'missing_entry' });
      const log = openLog(dir);
      expect(await errorOf(() => log.append(eventAt(0)))).toEqual({ code: 'STORE_WRITE_FAILED', details: { reason: 'missing_entry' } });
      expect((await errorOf(() => log.prove('a-2')))?.code).toBe('AUDIT_VERIFY_FAILED');
      await log.close();
    });

    it('a truncated log (fewer entries than its largest signed tree head): missing_entry at the new end', async () => {
      const { dir } = await closedLog(20);
      tamper(dir, (db) => db.prepare('DELETE FROM audit_entries WHERE idx >= 17').run());
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 20, firstBadIndex: 17, firstBadAuditId: 'a-17', reason: 'missing_entry' });
      const log = openLog(dir);
      expect(await log.size()).toBe(17);
      // Appending would hand out a-17 a second time.
      expect(await errorOf(() => log.append(eventAt(0)))).toEqual({ code: 'STORE_WRITE_FAILED', details: { reason: 'log_truncated' } });
      await log.close();
    });

    it('a log truncated while open: the writer notices at its next append', async () => {
      const dir = tempDir();
      const log = openLog(dir);
      await fill(log, 5);
      tamper(dir, (db) => {
        db.prepare('DELETE FROM audit_entries WHERE idx = 4').run();
        db.prepare('DELETE FROM audit_tree_heads WHERE tree_size = 5').run();
      });
      expect(await errorOf(() => log.append(eventAt(0)))).toEqual({ code: 'STORE_WRITE_FAILED', details: { reason: 'log_truncated' } });
      await log.close();
    });

    it('an entry appended without the key: unsigned_entry', async () => {
      const { dir } = await closedLog(6);
      tamper(dir, (db) => {
        const entry = { auditId: 'a-6', index: 6, time: '2025-01-01T00:00:10.000Z', event: otherEvent };
        db.prepare('INSERT INTO audit_entries (idx, audit_id, time, type, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)').run(
          6,
          'a-6',
          entry.time,
          'error',
          canonicalAuditEntry(entry),
          Buffer.from(hashAuditEntry(sha256, entry)),
        );
      });
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 7, firstBadIndex: 6, firstBadAuditId: 'a-6', reason: 'unsigned_entry' });
    });

    it('an entry and tree head added with a made-up signature: tree_head_signature_invalid', async () => {
      const { dir } = await closedLog(6);
      tamper(dir, (db) => {
        const entry = { auditId: 'a-6', index: 6, time: '2025-01-01T00:00:10.000Z', event: otherEvent };
        db.prepare('INSERT INTO audit_entries (idx, audit_id, time, type, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)').run(
          6,
          'a-6',
          entry.time,
          'error',
          canonicalAuditEntry(entry),
          Buffer.from(hashAuditEntry(sha256, entry)),
        );
        const leaves = db.prepare<[], Buffer>('SELECT leaf_hash FROM audit_entries ORDER BY idx').pluck().all();
        db.prepare('INSERT INTO audit_tree_heads (tree_size, root_hash, time, signature) VALUES (7, ?, ?, ?)').run(
          Buffer.from(merkleTreeHash(sha256, leaves)),
          entry.time,
          Buffer.alloc(64),
        );
      });
      expect(await verifyAgain(dir)).toMatchObject({ ok: false, firstBadIndex: 6, reason: 'tree_head_signature_invalid' });
    });

    it('a replaced signing key: every tree head fails, from index 0', async () => {
      const { dir } = await closedLog(5);
      const other = tempDir();
      await openLog(other).close(); // creates a fresh key there
      writeFileSync(join(dir, AUDIT_SIGNING_KEY_FILE), readFileSync(join(other, AUDIT_SIGNING_KEY_FILE)), { mode: 0o600 });
      expect(await verifyAgain(dir)).toEqual({ ok: false, treeSize: 5, firstBadIndex: 0, firstBadAuditId: 'a-0', reason: 'tree_head_signature_invalid' });
    });

    it('an unparseable body: get and prove say so instead of returning garbage', async () => {
      const { dir } = await closedLog(3);
      tamper(dir, (db) => db.prepare("UPDATE audit_entries SET body = '{not json' WHERE idx = 1").run());
      const log = openLog(dir);
      expect(await log.verify()).toMatchObject({ ok: false, firstBadIndex: 1, reason: 'leaf_hash_mismatch' });
      expect((await errorOf(() => log.get('a-1')))?.code).toBe('AUDIT_VERIFY_FAILED');
      expect((await errorOf(() => log.prove('a-1')))?.code).toBe('AUDIT_VERIFY_FAILED');
      await log.close();
    });

    it('limitation: dropping the newest entries together with their tree heads verifies; only a head kept elsewhere shows it', async () => {
      const { dir, receipts } = await closedLog(10);
      tamper(dir, (db) => {
        db.prepare('DELETE FROM audit_entries WHERE idx >= 8').run();
        db.prepare('DELETE FROM audit_tree_heads WHERE tree_size > 8').run();
      });
      const verification = await verifyAgain(dir);
      expect(verification).toMatchObject({ ok: true, treeSize: 8 });
      // A receipt the caller kept names a larger tree than the store now holds.
      expect(receipts.at(-1)?.treeSize).toBe(10);
    });
  });

  describe('tamper evidence past 2048 tree heads (signatures checked on a worker thread)', () => {
    let template: string | undefined;
    /** A closed 5000-entry log, built once (without fsync) and copied for each case. */
    async function bigLog(): Promise<string> {
      if (template === undefined) {
        template = mkdtempSync(join(tmpdir(), 'vigil-audit-template-'));
        const db = openSqliteDatabase({ dataDir: template });
        db.pragma('synchronous = OFF');
        const log = new SqliteAuditLog(db, { clock: createSteppingClock(), signingKey: loadOrCreateAuditSigningKey(template, { allowCreate: true }) });
        await fill(log, 5_000);
        db.close();
      }
      const dir = tempDir();
      cpSync(template, dir, { recursive: true });
      return dir;
    }
    afterAll(() => {
      if (template !== undefined) rmSync(template, { recursive: true, force: true });
    });
    const forgeSignature = (db: Database.Database, treeSize: number): void => {
      db.prepare('UPDATE audit_tree_heads SET signature = ? WHERE tree_size = ?').run(Buffer.alloc(64, 3), treeSize);
    };
    const otherEvent: AuditEvent = { type: 'error', code: 'DICOM_PARSE_FAILED', stage: 'forged' };

    it('verifies intact', async () => {
      const log = openLog(await bigLog());
      expect(await log.verify()).toMatchObject({ ok: true, treeSize: 5_000, checkedTreeHeads: 5_000 });
      await log.close();
    });

    it.each([
      {
        name: 'a forged signature',
        edit: (db: Database.Database) => forgeSignature(db, 4_000),
        expected: { firstBadIndex: 3_999, reason: 'tree_head_signature_invalid' },
      },
      {
        name: 'a root mismatch before a forged signature',
        edit: (db: Database.Database) => {
          rewriteEntry(db, 2_999, otherEvent, { updateLeafHash: true });
          forgeSignature(db, 4_000);
        },
        expected: { firstBadIndex: 2_999, reason: 'tree_head_mismatch' },
      },
      {
        name: 'a forged signature before a root mismatch',
        edit: (db: Database.Database) => {
          forgeSignature(db, 2_600);
          rewriteEntry(db, 2_999, otherEvent, { updateLeafHash: true });
        },
        expected: { firstBadIndex: 2_599, reason: 'tree_head_signature_invalid' },
      },
      {
        name: 'a forged signature and a root mismatch at the same head',
        edit: (db: Database.Database) => {
          rewriteEntry(db, 2_999, otherEvent, { updateLeafHash: true });
          forgeSignature(db, 3_000);
        },
        expected: { firstBadIndex: 2_999, reason: 'tree_head_signature_invalid' },
      },
      {
        name: 'an edited body before a forged signature',
        edit: (db: Database.Database) => {
          rewriteEntry(db, 4_500, otherEvent, { updateLeafHash: false });
          forgeSignature(db, 4_800);
        },
        expected: { firstBadIndex: 4_500, reason: 'leaf_hash_mismatch' },
      },
      {
        name: 'a forged signature on the head just before an edited body',
        edit: (db: Database.Database) => {
          forgeSignature(db, 4_500);
          rewriteEntry(db, 4_500, otherEvent, { updateLeafHash: false });
        },
        expected: { firstBadIndex: 4_499, reason: 'tree_head_signature_invalid' },
      },
      {
        name: 'a truncated log with a forged signature below the cut',
        edit: (db: Database.Database) => {
          forgeSignature(db, 4_000);
          db.prepare('DELETE FROM audit_entries WHERE idx >= 4_900').run();
        },
        expected: { firstBadIndex: 3_999, reason: 'tree_head_signature_invalid' },
      },
      {
        name: 'a truncated log',
        edit: (db: Database.Database) => db.prepare('DELETE FROM audit_entries WHERE idx >= 4_900').run(),
        expected: { firstBadIndex: 4_900, reason: 'missing_entry' },
      },
    ])('$name', async ({ edit, expected }) => {
      const dir = await bigLog();
      tamper(dir, edit);
      const log = openLog(dir);
      expect(await log.verify()).toMatchObject({ ok: false, treeSize: 5_000, ...expected });
      await log.close();
    });
  });

  it('signs exactly the documented tree head text', async () => {
    const dir = tempDir();
    const log = openLog(dir);
    await fill(log, 3);
    const head = (await log.prove('a-1')).treeHead;
    expect(head.signature).toHaveLength(88); // 64 bytes, base64
    expect(formatTreeHeadSigningInput(head.treeSize, head.rootHash, head.time)).toBe(`vigil-tree-head:v1:3:${head.rootHash}:${head.time}`);
    const published = loadOrCreateAuditSigningKey(dir, { allowCreate: false }).publicKeyBase64;
    expect(verifyTreeHeadSignature(head, published)).toBe(true);
    expect(verifyTreeHeadSignature(head, createAuditSigningKey().publicKeyBase64)).toBe(false);
    await log.close();
  });
});
