import { PlatformError, isErrorCode, isPlatformError } from '../domain/errors.js';
import type { StudyDeclaration } from '../ports/instance-store.js';
import type { IngestSender } from './ingest-instance.js';
import type { UploadResult } from './ingest-upload.js';
import type { StoredPart } from './store-instances.js';

/** What an upload of mixed files uses: the raster upload (ingest-upload.ts) and the DICOM ingest (store-instances.ts). */
export interface UploadFilesDependencies {
  readonly uploadImages: (declaration: StudyDeclaration, images: readonly Uint8Array[], sender?: IngestSender) => Promise<UploadResult>;
  readonly storeInstances: (instances: readonly Uint8Array[], sender?: IngestSender) => Promise<readonly StoredPart[]>;
}

/** One file of an upload, as the request carried it. */
export interface UploadedFile {
  readonly bytes: Uint8Array;
  /** A DICOM file (PS3.10, or typed `application/dicom`); any other file is offered to the raster upload. */
  readonly isDicom: boolean;
}

/** What became of one file, by its position among the files (from 0). */
export interface FileOutcome {
  readonly index: number;
  readonly kind: 'image' | 'dicom';
  readonly status: 'stored' | 'duplicate' | 'refused' | 'failed';
  readonly studyKey?: string;
  readonly sopInstanceUid?: string;
  readonly code?: string;
  /** For a refused DICOM file: `cannot_understand` or `out_of_resources` (as STOW-RS's Failure Reason). */
  readonly reason?: string;
}

export interface FilesUploaded {
  /** The images' study, else the first stored DICOM file's (an upload of images is one study). */
  readonly studyKey: string;
  readonly stored: number;
  readonly duplicates: number;
  readonly failed: readonly { readonly index: number; readonly code: string }[];
  readonly parts: readonly FileOutcome[];
  /** The studies of the stored files, in file order (repeats included). */
  readonly studyKeys: readonly string[];
}

/**
 * `POST /api/images`' files with what their sender declares about them: PNG/JPEG files form one study
 * (ingest-upload.ts); each DICOM file goes through the same ingest as STOW-RS into its own study. At
 * least one file must be stored (or already held); otherwise the upload fails with the one reason every
 * file shares, or INPUT_FORMAT_UNKNOWN.
 */
export async function uploadFiles(
  deps: UploadFilesDependencies,
  declaration: StudyDeclaration,
  files: readonly UploadedFile[],
  sender: IngestSender,
): Promise<FilesUploaded> {
  const dicomIndexes = files.flatMap((f, i) => (f.isDicom ? [i] : []));
  const imageIndexes = files.flatMap((f, i) => (f.isDicom ? [] : [i]));
  const bytesAt = (i: number): Uint8Array => (files[i] as UploadedFile).bytes;
  const outcomes = new Map<number, FileOutcome>();
  let upload: UploadResult | undefined;
  if (imageIndexes.length > 0) {
    try {
      upload = await deps.uploadImages(declaration, imageIndexes.map(bytesAt), sender);
    } catch (error) {
      // No PNG or JPEG among the non-DICOM files: with DICOM files beside them, those are refused one by one.
      if (!(isPlatformError(error) && error.code === 'INPUT_FORMAT_UNKNOWN' && dicomIndexes.length > 0)) throw error;
    }
    imageIndexes.forEach((fileIndex, imageIndex) => {
      const part = upload?.parts.find((p) => p.index === imageIndex);
      outcomes.set(
        fileIndex,
        part === undefined || part.status === 'refused'
          ? { index: fileIndex, kind: 'image', status: 'refused', code: part?.status === 'refused' ? part.code : 'INPUT_FORMAT_UNKNOWN' }
          : { index: fileIndex, kind: 'image', status: part.status, studyKey: part.studyKey, sopInstanceUid: part.sopInstanceUid },
      );
    });
  }
  if (dicomIndexes.length > 0) {
    const stored = await deps.storeInstances(dicomIndexes.map(bytesAt), sender);
    stored.forEach((part, j) => {
      const index = dicomIndexes[j] as number;
      outcomes.set(index, dicomOutcome(index, part));
    });
  }
  const parts = [...outcomes.values()].sort((a, b) => a.index - b.index);
  const accepted = parts.filter((p) => p.status === 'stored' || p.status === 'duplicate');
  if (accepted.length === 0) {
    // One reason for every file (a DICOM file without a Study Instance UID, a full disk): that reason,
    // with its own status; files Vigil cannot read at all: what it takes.
    const codes = new Set(parts.map((p) => p.code ?? 'INTERNAL'));
    const [only] = codes;
    if (codes.size === 1 && only !== undefined && only !== 'INPUT_FORMAT_UNKNOWN' && isErrorCode(only)) {
      throw new PlatformError(only, `No file of the upload could be stored: each was refused with ${only}`, { parts: parts.length });
    }
    throw new PlatformError('INPUT_FORMAT_UNKNOWN', 'No file of the upload could be stored: send PNG, JPEG or DICOM files', { parts: parts.length });
  }
  const studyKeys = accepted.flatMap((p) => (p.studyKey === undefined ? [] : [p.studyKey]));
  const studyKey = upload?.studyKey ?? studyKeys[0];
  // A stored or duplicate file always names its study.
  if (studyKey === undefined) throw new PlatformError('INTERNAL', 'An accepted file named no study');
  return {
    studyKey,
    stored: parts.filter((p) => p.status === 'stored').length,
    duplicates: parts.filter((p) => p.status === 'duplicate').length,
    failed: parts.flatMap((p) => (p.status === 'stored' || p.status === 'duplicate' ? [] : [{ index: p.index, code: p.code ?? 'INTERNAL' }])),
    parts,
    studyKeys,
  };
}

function dicomOutcome(index: number, part: StoredPart): FileOutcome {
  const outcome = part.outcome;
  if (outcome.status === 'stored' || outcome.status === 'duplicate') {
    return { index, kind: 'dicom', status: outcome.status, studyKey: outcome.studyKey, sopInstanceUid: outcome.sopInstanceUid };
  }
  if (outcome.status === 'refused') return { index, kind: 'dicom', status: 'refused', code: outcome.code, reason: outcome.reason };
  return { index, kind: 'dicom', status: 'failed', code: 'code' in outcome ? outcome.code : 'INTERNAL' };
}
