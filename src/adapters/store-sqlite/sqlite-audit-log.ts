/* eslint-disable @typescript-eslint/require-await -- better-sqlite3 is synchronous; the methods are async because the port is, so that networked stores (PostgreSQL) can implement it. */
import type { AuditEntry, AuditEvent } from '../../domain/audit/audit-event.js';
import { AuditLogScan, auditIdDetails, parseAuditEntryBody, treeHeadMessage } from '../../domain/audit/audit-log-scan.js';
import { canonicalAuditEntry, formatAuditId, hashAuditEntryText } from '../../domain/audit/audit-leaf.js';
import { CompactRange, auditPathFromLeafStream } from '../../domain/audit/merkle.js';
import { PlatformError, isPlatformError } from '../../domain/errors.js';
import type { AuditLog, AuditReceipt, AuditVerification, InclusionProof } from '../../ports/audit-log.js';
import type { Clock } from '../../ports/clock.js';
import { sha256 } from '../crypto-node/sha256.js';
import { toBuffer } from '../store-common/to-buffer.js';
import { checkedInclusionProof } from '../crypto-node/checked-inclusion-proof.js';
import { loadOrCreateAuditSigningKey, type AuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { openSqliteDatabase, type SqliteDatabase } from './open-sqlite.js';

export interface SqliteAuditLogOptions {
  readonly clock: Clock;
  readonly signingKey: AuditSigningKey;
  /** Close the database in `close()`. Set by `open()`; leave unset when the database is shared with other stores. */
  readonly ownsDatabase?: boolean;
}

/** Rows read per query when scanning the log (verify, prove, rebuild): bounded memory, few round trips. */
const PAGE_ROWS = 4096;

interface StoredHead {
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly time: string;
  readonly signature: Buffer;
}

/**
 * The audit trail in SQLite (`audit_entries`, `audit_tree_heads`; see migrations.ts): an RFC 6962
 * Merkle tree over canonical-JSON entries, with an Ed25519-signed tree head written in the same
 * transaction as each entry.
 *
 * The tree is never stored: the log keeps a compact range (the O(log n) roots of the perfect
 * subtrees, domain/audit/merkle.ts) in memory, rebuilt from the stored leaf hashes when it opens, so
 * an append costs O(log n) hashes. Each append takes SQLite's write lock first (BEGIN IMMEDIATE) and
 * checks that the store ends where the compact range does; if another process appended meanwhile it
 * reads their leaves in, and if the store lost entries it refuses to append (reusing an audit id
 * already handed out would be worse than stopping).
 *
 * `verify()` trusts nothing stored but the key: it re-derives every leaf from its body, the root at
 * every stored tree head size, and each head's signature. A failure's `treeSize` is the size the
 * store claims (the larger of its highest entry index + 1 and its largest signed tree head).
 *
 * What it cannot see: someone who can write the store *and* drop the newest entries together with
 * their tree heads leaves a shorter log that verifies. Only a tree head kept outside the store (a
 * receipt, a witness, a published root) exposes that; check such heads with `prove()` proofs.
 */
export class SqliteAuditLog implements AuditLog {
  /**
   * Opens the database in `dataDir` (migrating it), loads the signing key from the same folder, and
   * creates the key only while the log holds nothing signed.
   */
  static open(options: { readonly dataDir: string; readonly clock: Clock; readonly fileName?: string }): SqliteAuditLog {
    const db = openSqliteDatabase(options.fileName === undefined ? { dataDir: options.dataDir } : { dataDir: options.dataDir, fileName: options.fileName });
    try {
      const hasHistory = db.prepare('SELECT EXISTS (SELECT 1 FROM audit_tree_heads) OR EXISTS (SELECT 1 FROM audit_entries) AS yes').pluck().get() === 1;
      const signingKey = loadOrCreateAuditSigningKey(options.dataDir, { allowCreate: !hasHistory });
      return new SqliteAuditLog(db, { clock: options.clock, signingKey, ownsDatabase: true });
    } catch (cause) {
      db.close();
      throw cause;
    }
  }

  readonly #db: SqliteDatabase;
  readonly #clock: Clock;
  readonly #key: AuditSigningKey;
  readonly #ownsDatabase: boolean;
  /** Over the contiguous stored leaves 0..size-1. */
  #range: CompactRange;

  readonly #insertEntry;
  readonly #insertHead;
  readonly #storeEnds;
  readonly #leafHashesFrom;
  readonly #entryById;
  readonly #entryPage;
  readonly #headPage;
  readonly #latestHead;

  /**
   * `db` should come from `openSqliteDatabase` (migrated, WAL, `synchronous=FULL`): a receipt is a
   * promise that the entry is on disk, and only FULL keeps that promise through a power loss.
   */
  constructor(db: SqliteDatabase, options: SqliteAuditLogOptions) {
    this.#db = db;
    this.#clock = options.clock;
    this.#key = options.signingKey;
    this.#ownsDatabase = options.ownsDatabase ?? false;
    try {
      this.#insertEntry = db.prepare<[number, string, string, string, string, Buffer]>(
        'INSERT INTO audit_entries (idx, audit_id, time, type, body, leaf_hash) VALUES (?, ?, ?, ?, ?, ?)',
      );
      this.#insertHead = db.prepare<[number, Buffer, string, Buffer]>(
        'INSERT INTO audit_tree_heads (tree_size, root_hash, time, signature) VALUES (?, ?, ?, ?)',
      );
      this.#storeEnds = db.prepare<[], { entries: number; heads: number }>(
        'SELECT coalesce((SELECT max(idx) FROM audit_entries) + 1, 0) AS entries, coalesce((SELECT max(tree_size) FROM audit_tree_heads), 0) AS heads',
      );
      this.#leafHashesFrom = db
        .prepare<[number, number, number], [number, Buffer]>('SELECT idx, leaf_hash FROM audit_entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?')
        .raw();
      this.#entryById = db.prepare<[string], { idx: number; body: string }>('SELECT idx, body FROM audit_entries WHERE audit_id = ?');
      this.#entryPage = db
        .prepare<[number, number], [number, string, string, string, string, Buffer]>(
          'SELECT idx, audit_id, time, type, body, leaf_hash FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?',
        )
        .raw();
      this.#headPage = db
        .prepare<[number, number], [number, Buffer, string, Buffer]>(
          'SELECT tree_size, root_hash, time, signature FROM audit_tree_heads WHERE tree_size >= ? ORDER BY tree_size LIMIT ?',
        )
        .raw();
      this.#latestHead = db
        .prepare<[], [number, Buffer, string, Buffer]>('SELECT tree_size, root_hash, time, signature FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1')
        .raw();
      // Load the contiguous prefix. A gap or a truncation does not stop the log opening, so that
      // verify() can report it; append() refuses to extend such a log.
      this.#range = new CompactRange(sha256);
      for (const [idx, leafHash] of this.#leafHashes(0, Number.MAX_SAFE_INTEGER)) {
        if (idx !== this.#range.size) break;
        this.#range.append(leafHash);
      }
    } catch (cause) {
      throw new PlatformError('STORE_OPEN_FAILED', 'Could not open the audit log tables', {}, { cause });
    }
  }

  async append(event: AuditEvent): Promise<AuditReceipt> {
    const [receipt] = this.#appendEvents([event]);
    return receipt as AuditReceipt;
  }

  /**
   * Group commit: the entries and one signed tree head per entry, exactly as `append` would write them
   * one by one, in one transaction and so one WAL fsync. All or nothing: if one event has no canonical
   * form, nothing is written.
   */
  async appendMany(events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
    if (events.length === 0) return [];
    return this.#appendEvents(events);
  }

  #appendEvents(events: readonly AuditEvent[]): AuditReceipt[] {
    const write = this.#db.transaction((): { receipts: AuditReceipt[]; range: CompactRange } => {
      const next = this.#catchUp().clone();
      const receipts = events.map((event) => this.#appendInTransaction(next, event));
      return { receipts, range: next };
    });
    try {
      const { receipts, range } = write.immediate();
      // The in-memory tree moves only once COMMIT (and its WAL fsync) has succeeded.
      this.#range = range;
      return receipts;
    } catch (cause) {
      if (isPlatformError(cause)) throw cause;
      throw new PlatformError('STORE_WRITE_FAILED', 'Could not append to the audit log', {}, { cause });
    }
  }

  /** Inside the write transaction: stores `event` as the next entry of `range` (which it extends) with its signed tree head. */
  #appendInTransaction(range: CompactRange, event: AuditEvent): AuditReceipt {
    // Read under the write lock, so that entries from several writers get times in index order
    // (as far as their clocks agree).
    let time: string;
    try {
      time = this.#clock.now().toISOString();
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The clock gave an invalid time', {}, { cause });
    }
    const index = range.size;
    const entry: AuditEntry = { auditId: formatAuditId(index), index, time, event };
    let body: string;
    try {
      body = canonicalAuditEntry(entry);
    } catch (cause) {
      const details = isPlatformError(cause) ? cause.details : {};
      throw new PlatformError('STORE_WRITE_FAILED', 'The audit event has no canonical JSON form', details, { cause });
    }
    const leafHash = toBuffer(hashAuditEntryText(sha256, body));
    range.append(leafHash);
    const rootHash = toBuffer(range.root());
    const signature = toBuffer(this.#key.sign(treeHeadMessage(range.size, rootHash, time)));
    this.#insertEntry.run(index, entry.auditId, time, event.type, body, leafHash);
    this.#insertHead.run(range.size, rootHash, time, signature);
    return { auditId: entry.auditId, index, leafHash: leafHash.toString('hex'), treeSize: range.size, rootHash: rootHash.toString('hex') };
  }

  async get(auditId: string): Promise<AuditEntry | undefined> {
    const row = this.#entryById.get(auditId);
    return row === undefined ? undefined : parseAuditEntryBody(row.body);
  }

  async size(): Promise<number> {
    const ends = this.#storeEnds.get();
    return ends?.entries ?? 0;
  }

  /**
   * Checks the whole log in one pass, in index order, and returns the first problem:
   * - `missing_entry` at i: no entry i although a later entry or a signed tree head implies one
   *   (a deleted row, or a log truncated below its largest signed tree head).
   * - `leaf_hash_mismatch` at i: entry i's body is not valid canonical JSON of an entry, disagrees
   *   with its `idx`/`audit_id`/`time`/`type` columns, or does not hash to its stored leaf hash.
   * - `tree_head_signature_invalid` / `tree_head_mismatch` for a head of size s: its signature does not
   *   verify with this log's key (checked first: a head that is not authentic says nothing about the
   *   entries), or the root recomputed from the bodies differs from the signed one; reported at the
   *   size of the last head that verified (see `AuditVerification.firstBadIndex`).
   * - `unsigned_entry` at i: entries from i on are past the largest signed tree head.
   * Runs in a read transaction, so it sees one snapshot even while another process appends.
   */
  async verify(): Promise<AuditVerification> {
    try {
      return this.#db.transaction(() => this.#verifySnapshot())();
    } catch (cause) {
      throw new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log to verify it', {}, { cause });
    }
  }

  async prove(auditId: string): Promise<InclusionProof> {
    const read = this.#db.transaction((): InclusionProof => {
      const row = this.#entryById.get(auditId);
      if (row === undefined) throw new PlatformError('AUDIT_ENTRY_NOT_FOUND', 'No audit entry has this id', auditIdDetails(auditId));
      const headRow = this.#latestHead.get();
      if (headRow === undefined || headRow[0] <= row.idx) {
        throw new PlatformError('AUDIT_VERIFY_FAILED', 'No signed tree head covers this entry; run verify', auditIdDetails(auditId));
      }
      const head = toStoredHead(headRow);
      const entry = parseAuditEntryBody(row.body);
      let built: ReturnType<typeof auditPathFromLeafStream>;
      try {
        built = auditPathFromLeafStream(sha256, row.idx, head.treeSize, this.#contiguousLeafHashes(head.treeSize));
      } catch (cause) {
        throw new PlatformError('AUDIT_VERIFY_FAILED', 'The log is missing entries below its latest tree head; run verify', auditIdDetails(auditId), { cause });
      }
      return checkedInclusionProof(auditId, row.idx, entry, head, built, this.#key);
    });
    try {
      return read();
    } catch (cause) {
      if (isPlatformError(cause)) throw cause;
      throw new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log to build a proof', auditIdDetails(auditId), { cause });
    }
  }

  async close(): Promise<void> {
    if (this.#ownsDatabase && this.#db.open) this.#db.close();
  }

  /**
   * Inside the append's write transaction: returns the compact range over the whole stored log.
   * Usually that is `#range` as is; after another writer's appends it reads their leaves in.
   */
  #catchUp(): CompactRange {
    const ends = this.#storeEnds.get() ?? { entries: 0, heads: 0 };
    if (ends.entries === this.#range.size && ends.heads === this.#range.size) return this.#range;
    const refuse = (reason: string): never => {
      throw new PlatformError('STORE_WRITE_FAILED', 'The stored audit log has lost entries; refusing to append until it is investigated (run verify)', {
        reason,
      });
    };
    if (ends.entries < this.#range.size) refuse('log_truncated');
    const range = this.#range.clone();
    for (const [idx, leafHash] of this.#leafHashes(range.size, ends.entries)) {
      if (idx !== range.size) refuse('missing_entry');
      range.append(leafHash);
    }
    if (range.size !== ends.entries) refuse('missing_entry');
    if (ends.heads > range.size) refuse('log_truncated');
    this.#range = range;
    return range;
  }

  /**
   * One pass in log order (domain/audit/audit-log-scan.ts). Signatures may be checked on a worker
   * thread (see SignatureBatch); if that worker fails, the pass runs again on this thread.
   */
  #verifySnapshot(parallelAfter?: number): AuditVerification {
    const ends = this.#storeEnds.get() ?? { entries: 0, heads: 0 };
    const scan = new AuditLogScan(sha256, Math.max(ends.entries, ends.heads), this.#key.startBatch(parallelAfter === undefined ? {} : { parallelAfter }));
    const heads = this.#heads();
    let head = heads.next();
    scan: for (const [idx, auditId, time, type, body, leafHash] of this.#pages(this.#entryPage, 0)) {
      if (!scan.addEntry({ idx, auditId, time, type, body, leafHash })) break;
      for (; !head.done && head.value.treeSize <= scan.size; head = heads.next()) {
        if (!scan.addHead(head.value)) break scan;
      }
    }
    return scan.finish(!head.done) ?? this.#verifySnapshot(Number.POSITIVE_INFINITY);
  }

  *#heads(): Generator<StoredHead> {
    for (const row of this.#pages(this.#headPage, 0)) yield toStoredHead(row);
  }

  /** Leaf hashes with index in [from, to), in order, a page at a time. */
  *#leafHashes(from: number, to: number): Generator<[number, Buffer]> {
    let next = from;
    for (;;) {
      const rows = this.#leafHashesFrom.all(next, to, PAGE_ROWS);
      yield* rows;
      const last = rows.at(-1);
      if (rows.length < PAGE_ROWS || last === undefined) return;
      next = last[0] + 1;
    }
  }

  /** Exactly leaves 0..treeSize-1; stops (and the proof builder then throws) at the first gap. */
  *#contiguousLeafHashes(treeSize: number): Generator<Buffer> {
    let expected = 0;
    for (const [idx, leafHash] of this.#leafHashes(0, treeSize)) {
      if (idx !== expected) return;
      expected++;
      yield leafHash;
    }
  }

  /** Rows of a keyset-paginated query whose first column is the key and whose parameters are (from, limit). */
  *#pages<Row extends [number, ...unknown[]]>(statement: { all(from: number, limit: number): Row[] }, from: number): Generator<Row> {
    let next = from;
    for (;;) {
      const rows = statement.all(next, PAGE_ROWS);
      yield* rows;
      const last = rows.at(-1);
      if (rows.length < PAGE_ROWS || last === undefined) return;
      next = last[0] + 1;
    }
  }
}

function toStoredHead(row: [number, Buffer, string, Buffer]): StoredHead {
  const [treeSize, rootHash, time, signature] = row;
  return { treeSize, rootHash, time, signature };
}

/** A Buffer view of the same bytes (no copy): better-sqlite3 binds Buffers as BLOBs. */
