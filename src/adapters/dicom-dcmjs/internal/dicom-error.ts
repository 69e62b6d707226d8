import { PlatformError, type ErrorCode, type ErrorDetails } from '../../../domain/errors.js';

export type DicomErrorCode = Extract<ErrorCode, `DICOM_${string}`>;

/**
 * The adapter's only way to fail. Messages are fixed sentences written here: they never quote a tag value,
 * a UID or a path, and a library's own message travels only as `cause`.
 */
export function dicomError(code: DicomErrorCode, message: string, details: ErrorDetails = {}, cause?: unknown): PlatformError {
  return new PlatformError(code, message, details, cause === undefined ? undefined : { cause });
}

/** Keeps a PlatformError as it is and wraps anything else (a library or engine error) with `code`. */
export function toDicomError(value: unknown, code: DicomErrorCode, message: string, details: ErrorDetails = {}): PlatformError {
  if (value instanceof PlatformError) return value;
  return dicomError(code, message, details, value);
}
