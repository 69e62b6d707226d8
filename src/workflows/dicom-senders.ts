import type { AccessStore } from '../ports/access-store.js';
import type { IngestSender } from './ingest-instance.js';

/** `AE=user` pairs (VIGIL_DICOM_SENDER_USERS) as a map from calling AE title to user name. */
export function parseDicomSenders(text: string): ReadonlyMap<string, string> {
  const pairs = new Map<string, string>();
  for (const entry of text.split(',')) {
    const at = entry.indexOf('=');
    if (at < 0) continue;
    pairs.set(entry.slice(0, at).trim(), entry.slice(at + 1).trim());
  }
  return pairs;
}

/**
 * Who sent a C-STORE instance: the user its calling AE title is configured for, by surrogate id, so
 * that an integration account reads the studies its PACS or modality sends by DIMSE as it reads those
 * it sends over HTTP. Users are looked up by name when an AE title is first seen and again after a
 * minute (an account created or disabled later is picked up); a name with no account records no sender.
 *
 * @example const senderOf = dicomSenderResolver(access, parseDicomSenders('PACS=pacs')); await senderOf('PACS') // { senderId: 'u-3' }
 */
export function dicomSenderResolver(
  access: Pick<AccessStore, 'listUsers'>,
  senders: ReadonlyMap<string, string>,
  now: () => number,
): (callingAeTitle: string) => Promise<IngestSender> {
  let cache: { readonly at: number; readonly byName: ReadonlyMap<string, string> } | undefined;
  return async (callingAeTitle) => {
    const name = senders.get(callingAeTitle.trim());
    if (name === undefined) return {};
    if (cache === undefined || now() - cache.at > 60_000) {
      const users = await access.listUsers();
      cache = { at: now(), byName: new Map(users.filter((u) => !u.disabled).map((u) => [u.name, u.userId])) };
    }
    const senderId = cache.byName.get(name);
    return senderId === undefined ? {} : { senderId };
  };
}
