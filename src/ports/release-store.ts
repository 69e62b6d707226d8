import type { ReleaseProtocol } from '../domain/release/release-protocol.js';
import type { ReleaseRequest } from '../domain/release/release-request.js';

/**
 * A release request as stored: the request, and the protocol it was made under, kept whole beside it
 * (the request pins its SHA-256), so the protocol a change was judged by is the one that is read back.
 */
export interface StoredRelease {
  readonly request: ReleaseRequest;
  readonly protocol: ReleaseProtocol;
  /** 1 when created; +1 with each change. */
  readonly revision: number;
}

/** Release requests (domain/release/release-request.ts), shared by every server of the store. */
export interface ReleaseStore {
  /** Records a new request at revision 1; false (nothing written) when its id exists already. */
  create(request: ReleaseRequest, protocol: ReleaseProtocol): Promise<boolean>;
  get(requestId: string): Promise<StoredRelease | undefined>;
  /** Ids of requests that start with `prefix` (exactly, case-sensitive), at most `limit`, in id order: how a prefix names one request. */
  idsStartingWith(prefix: string, limit: number): Promise<readonly string[]>;
  /** Requests newest first (of one site, when given), at most `limit`. */
  list(options?: { readonly site?: string; readonly limit?: number }): Promise<readonly StoredRelease[]>;
  /**
   * Writes `next` only if the stored revision is `revision` (then it becomes `revision + 1`); false when
   * another change came first: nothing is written, read and retry. The protocol is never rewritten.
   */
  compareAndSet(next: ReleaseRequest, revision: number): Promise<boolean>;
}
