import type { QueryResultRow } from 'pg';
import type { AuditEntry, AuditEvent } from '../../domain/audit/audit-event.js';
import { AuditLogScan, auditIdDetails, parseAuditEntryBody, treeHeadMessage } from '../../domain/audit/audit-log-scan.js';
import { canonicalAuditEntry, formatAuditId, hashAuditEntryText } from '../../domain/audit/audit-leaf.js';
import { AuditPathBuilder, CompactRange } from '../../domain/audit/merkle.js';
import { PlatformError, isPlatformError } from '../../domain/errors.js';
import type { AuditLog, AuditReceipt, AuditVerification, InclusionProof } from '../../ports/audit-log.js';
import type { Clock } from '../../ports/clock.js';
import { sha256 } from '../crypto-node/sha256.js';
import { toBuffer } from '../store-common/to-buffer.js';
import { checkedInclusionProof } from '../crypto-node/checked-inclusion-proof.js';
import { AUDIT_SIGNING_KEY_FILE, loadOrCreateAuditSigningKey, type AuditSigningKey } from '../crypto-node/audit-signing-key.js';
import { inTransaction, type PostgresClient, type PostgresPool } from './open-postgres.js';

export interface PostgresAuditLogOptions {
  readonly clock: Clock;
  readonly signingKey: AuditSigningKey;
}

/** Rows read per query when scanning the log (verify, prove, catching up): bounded memory, few round trips. */
const PAGE_ROWS = 4096;

/**
 * Serialises appends from every process on the database (and so from every Vigil server): held until
 * the append's COMMIT. Keyed by schema, so that logs in different schemas do not wait for each other.
 */
const APPEND_LOCK = "SELECT pg_advisory_xact_lock(hashtextextended('vigil:audit-append:' || coalesce(current_schema(), ''), 0))";
const STORE_ENDS =
  'SELECT coalesce((SELECT max(idx) FROM audit_entries) + 1, 0) AS entries, coalesce((SELECT max(tree_size) FROM audit_tree_heads), 0) AS heads';
// A snapshot for reads that must see one state of the log (verify, prove) while others append.
const BEGIN_SNAPSHOT = 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY';

interface EntryRow extends QueryResultRow {
  idx: number;
  audit_id: string;
  time: string;
  type: string;
  body: string;
  leaf_hash: Buffer;
}

interface HeadRow extends QueryResultRow {
  tree_size: number;
  root_hash: Buffer;
  time: string;
  signature: Buffer;
}

/**
 * The audit trail in PostgreSQL: the same RFC 6962 Merkle tree over canonical-JSON entries, with an
 * Ed25519-signed tree head per entry, as SqliteAuditLog (store-sqlite/sqlite-audit-log.ts, whose
 * comment explains the design and its limits), so that several Vigil processes write ONE log.
 *
 * Appends from every process are serialised by an advisory lock taken inside the append's
 * transaction: under it the log reads where the store ends, takes in other processes' leaves
 * (catching its in-memory compact range up), reads the clock, and writes the entries and their
 * signed heads; COMMIT releases it. A store that lost entries is refused, as in SQLite.
 *
 * All processes must sign with one key: the first to open the log records the key's public half in
 * `audit_signing_key`, and a process holding another key refuses to open (its heads would not verify).
 * The private key never enters the database: whoever can write the database must not be able to
 * re-sign a rewritten log. Each process reads it from `<data dir>/audit-signing-key.pem` (shared
 * with the data folder, or copied to each server like the site secret).
 */
export class PostgresAuditLog implements AuditLog {
  /**
   * Loads the signing key from `dataDir` (creating it only while the database has no log and no
   * recorded key), then opens the log on `pool` (migrated; see open-postgres.ts).
   */
  static async open(options: { readonly pool: PostgresPool; readonly dataDir: string; readonly clock: Clock }): Promise<PostgresAuditLog> {
    let hasHistory: boolean;
    try {
      const result = await options.pool.query<{ yes: boolean }>(
        'SELECT EXISTS (SELECT 1 FROM audit_tree_heads) OR EXISTS (SELECT 1 FROM audit_entries) OR EXISTS (SELECT 1 FROM audit_signing_key) AS yes',
      );
      hasHistory = result.rows[0]?.yes ?? true;
    } catch (cause) {
      throw new PlatformError('STORE_OPEN_FAILED', 'Could not open the audit log tables', {}, { cause });
    }
    let signingKey: AuditSigningKey;
    try {
      signingKey = loadOrCreateAuditSigningKey(options.dataDir, { allowCreate: !hasHistory });
    } catch (cause) {
      if (!isPlatformError(cause) || cause.code !== 'STORE_OPEN_FAILED') throw cause;
      throw new PlatformError(
        'STORE_OPEN_FAILED',
        `The shared audit log is signed, and this server's data folder has no ${AUDIT_SIGNING_KEY_FILE}: copy it from a server already running`,
        {},
        { cause },
      );
    }
    return PostgresAuditLog.create(options.pool, { clock: options.clock, signingKey });
  }

  /** Opens the log with a key the caller holds: records it if the log has none, refuses a different one, loads the tree. */
  static async create(pool: PostgresPool, options: PostgresAuditLogOptions): Promise<PostgresAuditLog> {
    const log = new PostgresAuditLog(pool, options);
    let pinned: string | undefined;
    try {
      await pool.query('INSERT INTO audit_signing_key (public_key) VALUES ($1) ON CONFLICT (singleton) DO NOTHING', [options.signingKey.publicKeyBase64]);
      pinned = (await pool.query<{ public_key: string }>('SELECT public_key FROM audit_signing_key')).rows[0]?.public_key;
      // Load the contiguous prefix. A gap or a truncation does not stop the log opening, so that
      // verify() can report it; append() refuses to extend such a log.
      const client = await pool.connect();
      try {
        for await (const [idx, leafHash] of leafHashes(client, 0, Number.MAX_SAFE_INTEGER)) {
          if (idx !== log.#range.size) break;
          log.#range.append(leafHash);
        }
      } finally {
        client.release();
      }
    } catch (cause) {
      throw new PlatformError('STORE_OPEN_FAILED', 'Could not open the audit log tables', {}, { cause });
    }
    if (pinned !== options.signingKey.publicKeyBase64) {
      throw new PlatformError(
        'STORE_OPEN_FAILED',
        'This audit signing key is not the one the shared audit log is signed with: give every server the same audit-signing-key.pem',
        {},
      );
    }
    return log;
  }

  readonly #pool: PostgresPool;
  readonly #clock: Clock;
  readonly #key: AuditSigningKey;
  /** Over the contiguous stored leaves 0..size-1, as far as this process has seen them. */
  #range: CompactRange;
  /** This process's appends, one after another: they would queue on the advisory lock anyway, each holding a connection. */
  #appending: Promise<unknown> = Promise.resolve();

  private constructor(pool: PostgresPool, options: PostgresAuditLogOptions) {
    this.#pool = pool;
    this.#clock = options.clock;
    this.#key = options.signingKey;
    this.#range = new CompactRange(sha256);
  }

  async append(event: AuditEvent): Promise<AuditReceipt> {
    const [receipt] = await this.#appendEvents([event]);
    return receipt as AuditReceipt;
  }

  /** Group commit: the entries and one signed head per entry, in one transaction (one WAL flush). All or nothing. */
  async appendMany(events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
    if (events.length === 0) return [];
    return this.#appendEvents(events);
  }

  #appendEvents(events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
    const run = this.#appending.then(() => this.#writeEvents(events));
    this.#appending = run.catch(() => undefined);
    return run;
  }

  async #writeEvents(events: readonly AuditEvent[]): Promise<AuditReceipt[]> {
    const { receipts, range } = await inTransaction(
      this.#pool,
      async (client) => {
        const next = (await this.#catchUp(client)).clone();
        const rows = events.map((event) => this.#nextEntry(next, event));
        // Entries and heads in one statement: one round trip while the lock is held.
        await client.query(
          `WITH entries AS (
             INSERT INTO audit_entries (idx, audit_id, time, type, body, leaf_hash)
             SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bytea[])
           )
           INSERT INTO audit_tree_heads (tree_size, root_hash, time, signature)
           SELECT idx + 1, root_hash, time, signature FROM unnest($1::bigint[], $7::bytea[], $3::text[], $8::bytea[]) AS h (idx, root_hash, time, signature)`,
          [
            rows.map((r) => r.index),
            rows.map((r) => r.auditId),
            rows.map((r) => r.time),
            rows.map((r) => r.type),
            rows.map((r) => r.body),
            rows.map((r) => r.leafHash),
            rows.map((r) => r.rootHash),
            rows.map((r) => r.signature),
          ],
        );
        return { receipts: rows.map((r) => r.receipt), range: next };
      },
      (cause) => new PlatformError('STORE_WRITE_FAILED', 'Could not append to the audit log', {}, { cause }),
      // The lock in the same round trip as BEGIN (a multi-statement query).
      `BEGIN; ${APPEND_LOCK}`,
    );
    // The in-memory tree moves only once COMMIT has succeeded.
    if (range.size > this.#range.size) this.#range = range;
    return receipts;
  }

  /** Under the append lock: the next entry of `range` (which it extends) with its signed tree head. */
  #nextEntry(range: CompactRange, event: AuditEvent) {
    // Read under the lock, so that entries from several processes get times in index order (as far
    // as their clocks agree).
    let time: string;
    try {
      time = this.#clock.now().toISOString();
    } catch (cause) {
      throw new PlatformError('STORE_WRITE_FAILED', 'The clock gave an invalid time', {}, { cause });
    }
    const index = range.size;
    const auditId = formatAuditId(index);
    let body: string;
    try {
      body = canonicalAuditEntry({ auditId, index, time, event });
    } catch (cause) {
      const details = isPlatformError(cause) ? cause.details : {};
      throw new PlatformError('STORE_WRITE_FAILED', 'The audit event has no canonical JSON form', details, { cause });
    }
    const leafHash = toBuffer(hashAuditEntryText(sha256, body));
    range.append(leafHash);
    const rootHash = toBuffer(range.root());
    const signature = toBuffer(this.#key.sign(treeHeadMessage(range.size, rootHash, time)));
    const receipt: AuditReceipt = { auditId, index, leafHash: leafHash.toString('hex'), treeSize: range.size, rootHash: rootHash.toString('hex') };
    return { index, auditId, time, type: event.type, body, leafHash, rootHash, signature, receipt };
  }

  /** Under the append lock: the compact range over the whole stored log, reading in other processes' leaves. */
  async #catchUp(client: PostgresClient): Promise<CompactRange> {
    const ends = (await client.query<{ entries: number; heads: number }>(STORE_ENDS)).rows[0] ?? { entries: 0, heads: 0 };
    if (ends.entries === this.#range.size && ends.heads === this.#range.size) return this.#range;
    const refuse = (reason: string): never => {
      throw new PlatformError('STORE_WRITE_FAILED', 'The stored audit log has lost entries; refusing to append until it is investigated (run verify)', {
        reason,
      });
    };
    if (ends.entries < this.#range.size) refuse('log_truncated');
    const range = this.#range.clone();
    for await (const [idx, leafHash] of leafHashes(client, range.size, ends.entries)) {
      if (idx !== range.size) refuse('missing_entry');
      range.append(leafHash);
    }
    if (range.size !== ends.entries) refuse('missing_entry');
    if (ends.heads > range.size) refuse('log_truncated');
    this.#range = range;
    return range;
  }

  async get(auditId: string): Promise<AuditEntry | undefined> {
    let body: string | undefined;
    try {
      body = (await this.#pool.query<{ body: string }>('SELECT body FROM audit_entries WHERE audit_id = $1', [auditId])).rows[0]?.body;
    } catch (cause) {
      throw new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log', {}, { cause });
    }
    return body === undefined ? undefined : parseAuditEntryBody(body);
  }

  async size(): Promise<number> {
    try {
      return (await this.#pool.query<{ entries: number }>(STORE_ENDS)).rows[0]?.entries ?? 0;
    } catch (cause) {
      throw new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log', {}, { cause });
    }
  }

  /**
   * Checks the whole log in one pass (domain/audit/audit-log-scan.ts documents every outcome), in a
   * REPEATABLE READ snapshot, so it sees one state of the log while other processes append.
   */
  async verify(): Promise<AuditVerification> {
    return inTransaction(
      this.#pool,
      async (client) => {
        const first = await this.#verifySnapshot(client);
        // The signature worker failed: check again on this thread (same snapshot).
        return first ?? (await this.#verifySnapshot(client, Number.POSITIVE_INFINITY)) ?? failedCheck();
      },
      (cause) => new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log to verify it', {}, { cause }),
      BEGIN_SNAPSHOT,
    );
  }

  async #verifySnapshot(client: PostgresClient, parallelAfter?: number): Promise<AuditVerification | undefined> {
    const ends = (await client.query<{ entries: number; heads: number }>(STORE_ENDS)).rows[0] ?? { entries: 0, heads: 0 };
    const scan = new AuditLogScan(sha256, Math.max(ends.entries, ends.heads), this.#key.startBatch(parallelAfter === undefined ? {} : { parallelAfter }));
    const heads = pages<HeadRow>(
      client,
      'SELECT tree_size, root_hash, time, signature FROM audit_tree_heads WHERE tree_size >= $1 ORDER BY tree_size LIMIT $2',
      (r) => r.tree_size,
    );
    let head = await heads.next();
    scan: for await (const row of pages<EntryRow>(
      client,
      'SELECT idx, audit_id, time, type, body, leaf_hash FROM audit_entries WHERE idx >= $1 ORDER BY idx LIMIT $2',
      (r) => r.idx,
    )) {
      if (!scan.addEntry({ idx: row.idx, auditId: row.audit_id, time: row.time, type: row.type, body: row.body, leafHash: row.leaf_hash })) break;
      for (; !head.done && head.value.tree_size <= scan.size; head = await heads.next()) {
        const { tree_size: treeSize, root_hash: rootHash, time, signature } = head.value;
        if (!scan.addHead({ treeSize, rootHash, time, signature })) break scan;
      }
    }
    return scan.finish(!head.done);
  }

  async prove(auditId: string): Promise<InclusionProof> {
    return inTransaction(
      this.#pool,
      async (client) => {
        const row = (await client.query<{ idx: number; body: string }>('SELECT idx, body FROM audit_entries WHERE audit_id = $1', [auditId])).rows[0];
        if (row === undefined) throw new PlatformError('AUDIT_ENTRY_NOT_FOUND', 'No audit entry has this id', auditIdDetails(auditId));
        const head = (await client.query<HeadRow>('SELECT tree_size, root_hash, time, signature FROM audit_tree_heads ORDER BY tree_size DESC LIMIT 1'))
          .rows[0];
        if (head === undefined || head.tree_size <= row.idx) {
          throw new PlatformError('AUDIT_VERIFY_FAILED', 'No signed tree head covers this entry; run verify', auditIdDetails(auditId));
        }
        const entry = parseAuditEntryBody(row.body);
        let built: ReturnType<AuditPathBuilder['finish']>;
        try {
          const builder = new AuditPathBuilder(sha256, row.idx, head.tree_size);
          let expected = 0;
          for await (const [idx, leafHash] of leafHashes(client, 0, head.tree_size)) {
            if (idx !== expected) break; // a gap: finish() then throws
            expected++;
            builder.push(leafHash);
          }
          built = builder.finish();
        } catch (cause) {
          if (!(cause instanceof RangeError)) throw cause;
          throw new PlatformError('AUDIT_VERIFY_FAILED', 'The log is missing entries below its latest tree head; run verify', auditIdDetails(auditId), {
            cause,
          });
        }
        return checkedInclusionProof(
          auditId,
          row.idx,
          entry,
          { treeSize: head.tree_size, rootHash: head.root_hash, time: head.time, signature: head.signature },
          built,
          this.#key,
        );
      },
      (cause) => new PlatformError('AUDIT_VERIFY_FAILED', 'Could not read the audit log to build a proof', auditIdDetails(auditId), { cause }),
      BEGIN_SNAPSHOT,
    );
  }

  /** The pool belongs to the caller (it is shared with the other stores); nothing to release here. */
  async close(): Promise<void> {
    await this.#appending;
  }
}

function failedCheck(): never {
  throw new PlatformError('AUDIT_VERIFY_FAILED', 'The tree head signatures could not be checked', {});
}

/** Leaf hashes with index in [from, to), in order, a page at a time. */
async function* leafHashes(client: PostgresClient, from: number, to: number): AsyncGenerator<[number, Buffer]> {
  let next = from;
  for (;;) {
    const { rows } = await client.query<{ idx: number; leaf_hash: Buffer }>(
      'SELECT idx, leaf_hash FROM audit_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3',
      [next, to, PAGE_ROWS],
    );
    for (const row of rows) yield [row.idx, row.leaf_hash];
    const last = rows.at(-1);
    if (rows.length < PAGE_ROWS || last === undefined) return;
    next = last.idx + 1;
  }
}

/** Rows of a keyset-paginated query whose parameters are (from, limit), keyed by `keyOf`. */
async function* pages<Row extends QueryResultRow>(client: PostgresClient, sql: string, keyOf: (row: Row) => number): AsyncGenerator<Row> {
  let next = 0;
  for (;;) {
    const { rows } = await client.query<Row>(sql, [next, PAGE_ROWS]);
    yield* rows;
    const last = rows.at(-1);
    if (rows.length < PAGE_ROWS || last === undefined) return;
    next = keyOf(last) + 1;
  }
}

/** A Buffer view of the same bytes (no copy): pg sends Buffers as bytea. */
