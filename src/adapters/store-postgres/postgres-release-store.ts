import { PlatformError } from '../../domain/errors.js';
import type { ReleaseProtocol } from '../../domain/release/release-protocol.js';
import type { ReleaseRequest } from '../../domain/release/release-request.js';
import type { ReleaseStore, StoredRelease } from '../../ports/release-store.js';
import { RELEASE_LIST_LIMIT, releaseDocument, releaseOf, type ReleaseRow } from '../store-common/release-rows.js';
import type { PostgresPool } from './open-postgres.js';

const failed = (cause: unknown): PlatformError => new PlatformError('STORE_WRITE_FAILED', 'The release request could not be read or recorded', {}, { cause });

/** Release requests in PostgreSQL (migration 15), shared by every server. */
export class PostgresReleaseStore implements ReleaseStore {
  constructor(private readonly pool: PostgresPool) {}

  async create(request: ReleaseRequest, protocol: ReleaseProtocol): Promise<boolean> {
    try {
      const result = await this.pool.query(
        `INSERT INTO release_requests (request_id, site, state, document, revision, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, 1, $5, $6) ON CONFLICT (request_id) DO NOTHING`,
        [request.requestId, request.site, request.state, releaseDocument(request, protocol), Date.parse(request.createdAt), Date.parse(request.updatedAt)],
      );
      return result.rowCount === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async get(requestId: string): Promise<StoredRelease | undefined> {
    const rows = await this.#query('SELECT document, revision FROM release_requests WHERE request_id = $1', [requestId]);
    return rows[0] === undefined ? undefined : releaseOf(rows[0]);
  }

  async idsStartingWith(prefix: string, limit: number): Promise<readonly string[]> {
    // A range in byte order (COLLATE "C"), not LIKE (whose wildcards would need escaping): ids are ASCII, and '\u007f' sorts after every character of one.
    try {
      const result = await this.pool.query<{ request_id: string }>(
        `SELECT request_id FROM release_requests WHERE request_id COLLATE "C" >= $1 AND request_id COLLATE "C" < $2 ORDER BY request_id COLLATE "C" LIMIT $3`,
        [prefix, `${prefix}\u007f`, limit],
      );
      return result.rows.map((row) => row.request_id);
    } catch (cause) {
      throw failed(cause);
    }
  }

  async list(options: { readonly site?: string; readonly limit?: number } = {}): Promise<readonly StoredRelease[]> {
    const limit = Math.min(options.limit ?? RELEASE_LIST_LIMIT, RELEASE_LIST_LIMIT);
    const rows = await this.#query(
      `SELECT document, revision FROM release_requests WHERE (site = $1 OR $1::text IS NULL)
       ORDER BY created_at_ms DESC, request_id COLLATE "C" DESC LIMIT $2`,
      [options.site ?? null, limit],
    );
    return rows.map(releaseOf);
  }

  async compareAndSet(next: ReleaseRequest, revision: number): Promise<boolean> {
    try {
      // Only the request changes: the protocol it pinned is never rewritten.
      const result = await this.pool.query(
        `UPDATE release_requests SET state = $1, document = jsonb_set(document, '{request}', $2::jsonb), revision = revision + 1, updated_at_ms = $3
         WHERE request_id = $4 AND revision = $5`,
        [next.state, JSON.stringify(next), Date.parse(next.updatedAt), next.requestId, revision],
      );
      return result.rowCount === 1;
    } catch (cause) {
      throw failed(cause);
    }
  }

  async #query(sql: string, values: unknown[]): Promise<ReleaseRow[]> {
    try {
      return (await this.pool.query<ReleaseRow & object>(sql, values)).rows;
    } catch (cause) {
      throw failed(cause);
    }
  }
}
