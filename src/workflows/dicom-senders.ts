import type { IngestSender } from './ingest-instance.js';
import type { UserDirectory } from './user-directory.js';

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
 * it sends over HTTP. Users come from the cached directory (user-directory.ts); a name with no enabled
 * account records no sender.
 *
 * @example const senderOf = dicomSenderResolver(cachedUserDirectory(access, Date.now), parseDicomSenders('PACS=pacs')); await senderOf('PACS') // { senderId: 'u-3' }
 */
export function dicomSenderResolver(
  users: () => Promise<UserDirectory>,
  senders: ReadonlyMap<string, string>,
): (callingAeTitle: string) => Promise<IngestSender> {
  return async (callingAeTitle) => {
    const name = senders.get(callingAeTitle.trim());
    if (name === undefined) return {};
    const senderId = (await users()).idByEnabledName.get(name);
    return senderId === undefined ? {} : { senderId };
  };
}
