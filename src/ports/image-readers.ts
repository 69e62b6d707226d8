import type { ImageAttributes, ImageFrame } from '../domain/image/image-frame.js';

/**
 * Identifiers a DICOM instance carries that Vigil needs only to derive pseudonymous keys. They never
 * leave the ingest workflow: not logged, not stored, not audited.
 */
export interface InstanceIdentifiers {
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly sopInstanceUid?: string;
  readonly patientId?: string;
}

/** A parsed DICOM Part 10 instance whose frames decode on demand (a 30-frame US need not sit in memory at once). */
export interface DicomInstance {
  readonly identifiers: InstanceIdentifiers;
  readonly attributes: ImageAttributes;
  readonly frameCount: number;
  /** Decodes frame `index` (0-based). Throws PlatformError DICOM_* on failure. */
  decodeFrame(index: number): Promise<ImageFrame>;
}

export interface DicomReader {
  /** True when the bytes look like DICOM Part 10 ("DICM" at offset 128) or a bare DICOM dataset. */
  isDicom(bytes: Uint8Array): boolean;
  /** Parses without decoding pixels. Throws PlatformError DICOM_* on failure. */
  readInstance(bytes: Uint8Array): Promise<DicomInstance>;
}

export interface RasterReader {
  /** True for PNG or JPEG signatures. */
  isRaster(bytes: Uint8Array): boolean;
  /** Decodes a PNG or JPEG to one frame. Throws PlatformError IMAGE_DECODE_FAILED on failure. */
  readRaster(bytes: Uint8Array): Promise<ImageFrame>;
}
