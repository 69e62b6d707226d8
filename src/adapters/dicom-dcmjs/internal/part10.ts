/**
 * PS3.10 Section 7: a 128-byte preamble (any content: TIFF/DICOM dual files put a TIFF header there), "DICM",
 * then the File Meta Information group (0002,eeee) in Explicit VR Little Endian, then the dataset in the
 * transfer syntax the meta group names. Also accepts a bare dataset (no preamble), as received from some
 * older modalities and as `isDicom` admits.
 */
import { inflateRawSync, inflateSync } from 'node:zlib';
import { dicomError } from './dicom-error.js';
import { isKnownVr, readVr, type ElementSyntax } from './dataset-scanner.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax, type TransferSyntax } from './transfer-syntax.js';

export interface LocatedDataset {
  readonly transferSyntaxUid: string;
  readonly transferSyntax: TransferSyntax;
  /** How the dataset's elements are encoded; can differ from the syntax's when the file contradicts its meta group. */
  readonly syntax: ElementSyntax;
  /** The dataset: a view into the input, or the inflated bytes of a deflated file. */
  readonly dataset: Uint8Array;
  readonly mediaStorageSopInstanceUid?: string;
}

const PREAMBLE_LENGTH = 128;
const META_GROUP = 0x0002;
const TRANSFER_SYNTAX_UID_ELEMENT = 0x0010;
const MEDIA_STORAGE_SOP_INSTANCE_UID_ELEMENT = 0x0003;
const LONG_META_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);

export function hasPart10Signature(bytes: Uint8Array): boolean {
  return bytes.length >= PREAMBLE_LENGTH + 4 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

/**
 * A bare dataset plausibly starts with a File Meta (0002) or Identifying (0008) group element whose header
 * makes sense: a known explicit VR, or an implicit length that fits in the bytes.
 */
export function looksLikeBareDataset(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const group = view.getUint16(0, true);
  if (group !== META_GROUP && group !== 0x0008) return false;
  if (isKnownVr(readVr(bytes, 4))) return true;
  return group === 0x0008 && view.getUint32(4, true) <= bytes.length - 8;
}

export function locateDataset(bytes: Uint8Array, maxInflatedBytes: number): LocatedDataset {
  let metaStart: number;
  if (hasPart10Signature(bytes)) metaStart = PREAMBLE_LENGTH + 4;
  else if (looksLikeBareDataset(bytes)) metaStart = 0;
  else throw dicomError('DICOM_PARSE_FAILED', 'The data is not DICOM: no Part 10 signature and no dataset start');

  const meta = readMetaGroup(bytes, metaStart);
  let uid = meta.transferSyntaxUid;
  if (uid === undefined) {
    // PS3.10 requires (0002,0010). A bare dataset without a meta group is Little Endian; its VRs tell which.
    if (metaStart !== 0 || meta.end !== metaStart) throw dicomError('DICOM_PARSE_FAILED', 'The File Meta Information has no Transfer Syntax UID');
    uid = isKnownVr(readVr(bytes, 4)) ? EXPLICIT_VR_LITTLE_ENDIAN : IMPLICIT_VR_LITTLE_ENDIAN;
  }
  const transferSyntax = findTransferSyntax(uid);
  if (transferSyntax === undefined) throw dicomError('DICOM_TRANSFER_SYNTAX_UNSUPPORTED', 'The transfer syntax is not supported');

  const rest = bytes.subarray(meta.end);
  const dataset = transferSyntax.deflated ? inflateDataset(rest, maxInflatedBytes) : rest;
  return {
    transferSyntaxUid: uid,
    transferSyntax,
    syntax: correctVrEncoding(dataset, transferSyntax),
    dataset,
    ...(meta.mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid }),
  };
}

/**
 * Some writers label an implicit-VR dataset explicit or the reverse. As pydicom and DCMTK do, trust the first
 * element over the label when the label cannot be right: no valid VR where explicit VR needs one, or an
 * implicit length that would run past the end where a valid VR stands. Little Endian only.
 */
function correctVrEncoding(dataset: Uint8Array, syntax: TransferSyntax): ElementSyntax {
  const declared: ElementSyntax = { explicitVR: syntax.explicitVR, littleEndian: syntax.littleEndian };
  if (!syntax.littleEndian || syntax.encoding !== 'native' || dataset.length < 8) return declared;
  const vrIsValid = isKnownVr(readVr(dataset, 4));
  if (syntax.explicitVR && !vrIsValid) return { explicitVR: false, littleEndian: true };
  if (!syntax.explicitVR && vrIsValid) {
    const implicitLength = new DataView(dataset.buffer, dataset.byteOffset, dataset.byteLength).getUint32(4, true);
    if (implicitLength !== 0xffffffff && implicitLength > dataset.length - 8) return { explicitVR: true, littleEndian: true };
  }
  return declared;
}

interface MetaGroup {
  readonly end: number;
  readonly transferSyntaxUid?: string;
  readonly mediaStorageSopInstanceUid?: string;
}

/** Walks (0002,eeee) elements, always Explicit VR Little Endian (PS3.10 7.1). The group length is not trusted. */
function readMetaGroup(bytes: Uint8Array, start: number): MetaGroup {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let transferSyntaxUid: string | undefined;
  let mediaStorageSopInstanceUid: string | undefined;
  while (pos + 4 <= bytes.length && view.getUint16(pos, true) === META_GROUP) {
    if (pos + 8 > bytes.length) throw dicomError('DICOM_TRUNCATED', 'The data ends inside the File Meta Information');
    const element = view.getUint16(pos + 2, true);
    const vr = readVr(bytes, pos + 4);
    if (!isKnownVr(vr)) throw dicomError('DICOM_PARSE_FAILED', 'The File Meta Information has an invalid value representation');
    let length: number;
    let valueOffset: number;
    if (LONG_META_VRS.has(vr)) {
      if (pos + 12 > bytes.length) throw dicomError('DICOM_TRUNCATED', 'The data ends inside the File Meta Information');
      length = view.getUint32(pos + 8, true);
      valueOffset = pos + 12;
    } else {
      length = view.getUint16(pos + 6, true);
      valueOffset = pos + 8;
    }
    if (length === 0xffffffff) throw dicomError('DICOM_PARSE_FAILED', 'The File Meta Information has an undefined length');
    if (valueOffset + length > bytes.length) throw dicomError('DICOM_TRUNCATED', 'The data ends inside the File Meta Information');
    if (element === TRANSFER_SYNTAX_UID_ELEMENT) transferSyntaxUid = readUid(bytes, valueOffset, length);
    if (element === MEDIA_STORAGE_SOP_INSTANCE_UID_ELEMENT) mediaStorageSopInstanceUid = readUid(bytes, valueOffset, length);
    pos = valueOffset + length;
  }
  return {
    end: pos,
    ...(transferSyntaxUid === undefined ? {} : { transferSyntaxUid }),
    ...(mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid }),
  };
}

/** A UI value: ASCII, padded with NUL (PS3.5 6.2), some writers pad with a space. */
function readUid(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = 0; i < Math.min(length, 64); i++) text += String.fromCharCode(bytes[offset + i] ?? 0);
  return text.replace(/[\0 ]+$/, '');
}

/**
 * Deflated Explicit VR Little Endian (PS3.5 A.5): everything after the meta group is raw DEFLATE (RFC 1951).
 * The output is capped, because a few kilobytes of deflate can claim gigabytes; a few writers wrap the
 * stream in zlib (RFC 1950), which is accepted as well.
 */
function inflateDataset(deflated: Uint8Array, maxInflatedBytes: number): Uint8Array {
  try {
    return inflateRawSync(deflated, { maxOutputLength: maxInflatedBytes });
  } catch (rawError) {
    if (isOutputTooLarge(rawError)) throw inflateLimit(maxInflatedBytes, rawError);
    try {
      return inflateSync(deflated, { maxOutputLength: maxInflatedBytes });
    } catch (zlibError) {
      if (isOutputTooLarge(zlibError)) throw inflateLimit(maxInflatedBytes, zlibError);
      if (hasCode(rawError, 'Z_BUF_ERROR')) throw dicomError('DICOM_TRUNCATED', 'The deflated dataset ends early', {}, rawError);
      throw dicomError('DICOM_PARSE_FAILED', 'The deflated dataset cannot be inflated', {}, rawError);
    }
  }
}

function inflateLimit(maxInflatedBytes: number, cause: unknown): Error {
  return dicomError('DICOM_LIMIT_EXCEEDED', 'The deflated dataset inflates beyond the reader limit', { maxDecodedBytes: maxInflatedBytes }, cause);
}

function isOutputTooLarge(error: unknown): boolean {
  return error instanceof RangeError || hasCode(error, 'ERR_BUFFER_TOO_LARGE');
}

function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === code;
}
