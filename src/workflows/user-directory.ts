import type { AccessStore } from '../ports/access-store.js';

export interface UserDirectory {
  /** Enabled accounts' surrogate ids by user name. */
  readonly idByEnabledName: ReadonlyMap<string, string>;
  /** Every account's user name by surrogate id. */
  readonly nameById: ReadonlyMap<string, string>;
}

/**
 * The accounts as ingest needs them to tell who sent what (DICOM senders by AE title, sites by the
 * sending account), read from the store at most once a minute: an account created, renamed or disabled
 * later is picked up within that.
 */
export function cachedUserDirectory(access: Pick<AccessStore, 'listUsers'>, now: () => number, maxAgeMs = 60_000): () => Promise<UserDirectory> {
  let cache: { readonly at: number; readonly directory: UserDirectory } | undefined;
  return async () => {
    if (cache === undefined || now() - cache.at > maxAgeMs) {
      const users = await access.listUsers();
      cache = {
        at: now(),
        directory: {
          idByEnabledName: new Map(users.filter((u) => !u.disabled).map((u) => [u.name, u.userId])),
          nameById: new Map(users.map((u) => [u.userId, u.name])),
        },
      };
    }
    return cache.directory;
  };
}
