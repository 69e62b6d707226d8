import type { ReleaseProtocol } from '../../domain/release/release-protocol.js';
import type { ReleaseRequest } from '../../domain/release/release-request.js';
import type { StoredRelease } from '../../ports/release-store.js';

/** The `release_requests` row (migration 15) as both stores read it. */
export interface ReleaseRow {
  readonly document: unknown;
  readonly revision: number | string;
}

/** The stored document: the request and its pinned protocol. */
export function releaseDocument(request: ReleaseRequest, protocol: ReleaseProtocol): string {
  return JSON.stringify({ request, protocol });
}

export function releaseOf(row: ReleaseRow): StoredRelease {
  const parsed = (typeof row.document === 'string' ? JSON.parse(row.document) : row.document) as { request: ReleaseRequest; protocol: ReleaseProtocol };
  if (typeof parsed.request?.requestId !== 'string' || typeof parsed.protocol?.changeType !== 'string') throw new Error('release row is not a release request');
  return { request: parsed.request, protocol: parsed.protocol, revision: Number(row.revision) };
}

/** At most this many requests in one list. */
export const RELEASE_LIST_LIMIT = 500;
