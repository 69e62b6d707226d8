import { PlatformError } from '../domain/errors.js';
import type { InstanceStore, StudyDeclaration } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { IngestSender } from './ingest-instance.js';

export interface UploadDependencies {
  readonly instances: InstanceStore;
  readonly studies: StudyRegistry;
  readonly logger: Logger;
  /** 'png' or 'jpg' for a PNG or JPEG signature, undefined for anything else. */
  readonly rasterKind: (bytes: Uint8Array) => 'png' | 'jpg' | undefined;
  /** A new pseudonymous (2.25) study UID: an upload has no identifier of its own to key on. */
  readonly newStudyUid: () => string;
  /** A 2.25 UID naming an image by its content, so the same image in one upload is stored once. */
  readonly contentUid: (bytes: Uint8Array) => string;
  readonly studyKeyOf: (studyUid: string) => string;
  readonly hasRoom: () => Promise<boolean>;
}

export interface UploadResult {
  readonly studyKey: string;
  readonly stored: number;
  readonly duplicates: number;
  /** Parts that are not PNG or JPEG, by their position in the request. */
  readonly failed: readonly { readonly index: number; readonly code: string }[];
  /** Every image, by its position among the images: what became of it. */
  readonly parts: readonly UploadedPart[];
}

/** One image of an upload: stored (or already held) under a pseudonymous SOP Instance UID, or refused with a code. */
export type UploadedPart =
  | { readonly index: number; readonly status: 'stored' | 'duplicate'; readonly studyKey: string; readonly sopInstanceUid: string }
  | { readonly index: number; readonly status: 'refused'; readonly code: string };

/**
 * PNG/JPEG images from a camera or device, with what the sender declares about them (modality, body
 * part, view, site, device): one upload is one study, stored durably with its declaration and judged
 * like any other study once complete. Raster images carry no patient header, so there is nothing to
 * de-identify in them; burned-in text is the sender's to avoid (docs/api.md).
 */
export async function ingestUpload(
  deps: UploadDependencies,
  declaration: StudyDeclaration,
  images: readonly Uint8Array[],
  sender: IngestSender = {},
): Promise<UploadResult> {
  if (!(await deps.hasRoom())) throw new PlatformError('STORE_DISK_FULL', 'The data folder is nearly full: nothing was stored, send again later');
  const studyUid = deps.newStudyUid();
  const studyKey = deps.studyKeyOf(studyUid);
  const failed: { index: number; code: string }[] = [];
  const accepted = images.flatMap((bytes, index) => {
    const kind = deps.rasterKind(bytes);
    if (kind === undefined) failed.push({ index, code: 'INPUT_FORMAT_UNKNOWN' });
    return kind === undefined ? [] : [{ bytes, kind, index }];
  });
  if (accepted.length === 0)
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'The upload holds no PNG or JPEG image (it takes PNG, JPEG or DICOM files)', { parts: images.length });
  // The declaration first: a study must never be judged without what was declared about it.
  await deps.instances.putDeclaration(studyUid, declaration);
  let stored = 0;
  let duplicates = 0;
  const parts: UploadedPart[] = failed.map(({ index, code }) => ({ index, status: 'refused', code }));
  const facts = { ...sender, ...(declaration.modality === undefined ? {} : { modality: declaration.modality }) };
  for (const { bytes, kind, index } of accepted) {
    const uid = deps.contentUid(bytes);
    const outcome = await deps.instances.put(studyUid, uid, bytes, kind);
    await deps.studies.recordInstance(studyKey, studyUid, uid, facts);
    if (outcome === 'stored') stored++;
    else duplicates++;
    parts.push({ index, status: outcome, studyKey, sopInstanceUid: uid });
  }
  deps.logger.info({ stage: 'upload', studyKey, count: stored, status: 'stored' }, 'images uploaded');
  return { studyKey, stored, duplicates, failed, parts: parts.sort((a, b) => a.index - b.index) };
}
