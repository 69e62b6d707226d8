import { PlatformError } from '../../domain/errors.js';
import type { ReleaseProtocol } from '../../domain/release/release-protocol.js';
import type { ReleaseRequest } from '../../domain/release/release-request.js';
import type { ReleaseStore, StoredRelease } from '../../ports/release-store.js';
import { RELEASE_LIST_LIMIT, releaseDocument, releaseOf, type ReleaseRow } from '../store-common/release-rows.js';
import type { SqliteDatabase } from './open-sqlite.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The release request could not be recorded', {}, { cause });

/** Release requests in SQLite (migration 15). */
export class SqliteReleaseStore implements ReleaseStore {
  readonly #get;
  readonly #list;
  readonly #listSite;
  readonly #prefixed;
  readonly #insert;
  readonly #update;

  constructor(db: SqliteDatabase) {
    this.#get = db.prepare<[string], ReleaseRow>('SELECT document, revision FROM release_requests WHERE request_id = ?');
    // A range on the key, not LIKE (case-insensitive in SQLite, and its wildcards would need escaping): ids are ASCII, and '\u007f' sorts after every character of one.
    this.#prefixed = db.prepare<[string, string, number], { request_id: string }>(
      'SELECT request_id FROM release_requests WHERE request_id >= ? AND request_id < ? ORDER BY request_id LIMIT ?',
    );
    this.#list = db.prepare<[number], ReleaseRow>('SELECT document, revision FROM release_requests ORDER BY created_at_ms DESC, request_id DESC LIMIT ?');
    this.#listSite = db.prepare<[string, number], ReleaseRow>(
      'SELECT document, revision FROM release_requests WHERE site = ? ORDER BY created_at_ms DESC, request_id DESC LIMIT ?',
    );
    this.#insert = db.prepare(
      `INSERT INTO release_requests (request_id, site, state, document, revision, created_at_ms, updated_at_ms)
       VALUES (?, ?, ?, ?, 1, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
    );
    this.#update = db.prepare(
      `UPDATE release_requests SET state = ?, document = json_set(document, '$.request', json(?)), revision = revision + 1, updated_at_ms = ?
       WHERE request_id = ? AND revision = ?`,
    );
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- better-sqlite3 is synchronous; the port is not.
  async create(request: ReleaseRequest, protocol: ReleaseProtocol): Promise<boolean> {
    try {
      return (
        this.#insert.run(
          request.requestId,
          request.site,
          request.state,
          releaseDocument(request, protocol),
          Date.parse(request.createdAt),
          Date.parse(request.updatedAt),
        ).changes === 1
      );
    } catch (cause) {
      throw failed(cause);
    }
  }

  get(requestId: string): Promise<StoredRelease | undefined> {
    const row = this.#get.get(requestId);
    return Promise.resolve(row === undefined ? undefined : releaseOf(row));
  }

  idsStartingWith(prefix: string, limit: number): Promise<readonly string[]> {
    return Promise.resolve(this.#prefixed.all(prefix, `${prefix}\u007f`, limit).map((row) => row.request_id));
  }

  list(options: { readonly site?: string; readonly limit?: number } = {}): Promise<readonly StoredRelease[]> {
    const limit = Math.min(options.limit ?? RELEASE_LIST_LIMIT, RELEASE_LIST_LIMIT);
    const rows = options.site === undefined ? this.#list.all(limit) : this.#listSite.all(options.site, limit);
    return Promise.resolve(rows.map(releaseOf));
  }

  // eslint-disable-next-line @typescript-eslint/require-await -- as above.
  async compareAndSet(next: ReleaseRequest, revision: number): Promise<boolean> {
    try {
      // Only the request changes: the protocol it pinned is never rewritten.
      return this.#update.run(next.state, JSON.stringify(next), Date.parse(next.updatedAt), next.requestId, revision).changes === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
