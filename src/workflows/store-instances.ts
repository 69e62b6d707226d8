import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { IngestOutcome, IngestSender } from './ingest-instance.js';

/** What a sender said an instance was, read before de-identification, to answer that sender only. */
export interface SentIdentity {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
}

export interface StoredPart {
  readonly identity: SentIdentity;
  readonly outcome: IngestOutcome | { readonly status: 'failed'; readonly code: string };
}

/**
 * STOW-RS and uploads: each instance of a request goes through the same ingest as C-STORE, one by
 * one; one that fails does not stop the others. The sender's own UIDs are read only to answer it
 * (PS3.18 requires them in the response); they are never stored or logged.
 */
export async function storeInstances(
  deps: {
    readonly ingest: (bytes: Uint8Array, sender: IngestSender) => Promise<IngestOutcome>;
    readonly identify: (bytes: Uint8Array) => Promise<SentIdentity>;
    /** False when the store's disk is nearly full: the whole request is then refused before anything is read. */
    readonly hasRoom: () => Promise<boolean>;
  },
  instances: readonly Uint8Array[],
  sender: IngestSender = {},
): Promise<StoredPart[]> {
  if (!(await deps.hasRoom())) throw new PlatformError('STORE_DISK_FULL', 'The data folder is nearly full: nothing was stored, send again later');
  const results: StoredPart[] = [];
  for (const bytes of instances) {
    const identity = await deps.identify(bytes).catch((): SentIdentity => ({}));
    try {
      results.push({ identity, outcome: await deps.ingest(bytes, sender) });
    } catch (cause) {
      results.push({ identity, outcome: { status: 'failed', code: toPlatformError(cause).code } });
    }
  }
  return results;
}
