/**
 * PS3.10 Section 7: a 128-byte preamble (any content: TIFF/DICOM dual files put a TIFF header there), "DICM",
 * then the File Meta Information group (0002,eeee) in Explicit VR Little Endian, then the dataset in the
 * transfer syntax the meta group names. Also accepts a bare dataset (no preamble), as received from some
 * older modalities and as `isDicom` admits.
 */
import { PlatformError } from '../../../domain/errors.js';
import { inflateAtMost } from './bounded-inflate.js';
import { dicomError } from './dicom-error.js';
import { isKnownVr, readVr, type ElementSyntax } from './dataset-scanner.js';
import { EXPLICIT_VR_LITTLE_ENDIAN, IMPLICIT_VR_LITTLE_ENDIAN, findTransferSyntax, type TransferSyntax } from './transfer-syntax.js';

/**
 * How far a Deflated Explicit VR Little Endian dataset (PS3.5 A.5) may inflate: at most
 * `maxInflatedBytes` (VIGIL_MAX_INPUT_BYTES: an inflated instance is an input like any other), and beyond
 * the first INFLATE_GRACE_BYTES at most `maxInflateRatio` times its deflated size (VIGIL_MAX_INFLATE_RATIO).
 */
export interface InflateLimits {
  readonly maxInflatedBytes: number;
  readonly maxInflateRatio: number;
}

/**
 * The ratio limit, 100:1 by default. Deflating the datasets of the 20 Vigil samples and pydicom's test files
 * (78 in all, made Explicit VR Little Endian first) gives 1.1:1 to 7:1 for real acquisitions (CR, CT, MR,
 * NM, US, ECG), 56:1 for the one Deflated sample as its writer made it, and up to 140:1 only for synthetic
 * secondary captures of a few flat colours, all under 1 MiB. The ratio of a whole instance is ruled by its
 * least compressible part: to pass 100:1 it must be nearly all one repeated value (over 98 % of its bytes
 * when the rest deflates 2:1, as image content does), i.e. a blank image, while a run of zeros deflates
 * about 1,030:1 (DEFLATE's ceiling), which is what a bomb is made of.
 * Apache POI's ZipSecureFile refuses the same 100:1 past a small grace size. Small instances are let
 * through whatever their ratio (a blank 4k × 2k 16-bit frame is 16 MiB), so the ratio only ever bites
 * where memory is at stake.
 */
export const INFLATE_GRACE_BYTES = 16 * 1024 ** 2;
export const DEFAULT_INFLATE_LIMITS: InflateLimits = Object.freeze({ maxInflatedBytes: 2 * 1024 ** 3 - 1, maxInflateRatio: 100 });

/** The limits as given, once they are known to make sense. @throws PlatformError CONFIG_INVALID */
export function checkInflateLimits(limits: InflateLimits): InflateLimits {
  if (!Number.isSafeInteger(limits.maxInflatedBytes) || limits.maxInflatedBytes <= 0 || !(limits.maxInflateRatio >= 1)) {
    throw new PlatformError('CONFIG_INVALID', 'The inflate limits must be a positive whole number of bytes and a ratio of at least 1');
  }
  return limits;
}

/** The most bytes `deflatedBytes` of deflated dataset may inflate to under `limits`. */
export function inflatedByteLimit(deflatedBytes: number, limits: InflateLimits): number {
  return Math.min(limits.maxInflatedBytes, Math.max(INFLATE_GRACE_BYTES, Math.floor(deflatedBytes * limits.maxInflateRatio)));
}

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
const MEDIA_STORAGE_SOP_CLASS_UID_ELEMENT = 0x0002;
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

/** What precedes the dataset: read without touching, let alone inflating, the dataset itself. */
export interface Part10Header {
  readonly transferSyntaxUid: string;
  readonly transferSyntax: TransferSyntax;
  /** Everything after the File Meta Information: the dataset, deflated for the Deflated syntax. */
  readonly body: Uint8Array;
  /** (0002,0002) and (0002,0003), which PS3.10 7.1 requires to equal the dataset's SOP Class and Instance UIDs. */
  readonly mediaStorageSopClassUid?: string;
  readonly mediaStorageSopInstanceUid?: string;
}

export function readPart10Header(bytes: Uint8Array): Part10Header {
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

  return {
    transferSyntaxUid: uid,
    transferSyntax,
    body: bytes.subarray(meta.end),
    ...(meta.mediaStorageSopClassUid === undefined ? {} : { mediaStorageSopClassUid: meta.mediaStorageSopClassUid }),
    ...(meta.mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid: meta.mediaStorageSopInstanceUid }),
  };
}

/**
 * The dataset, inflated (within `limits`, off the event loop) when the transfer syntax is Deflated. Read it
 * once per instance and pass the result on: every call inflates again.
 *
 * @throws PlatformError DICOM_INFLATE_LIMIT_EXCEEDED, DICOM_TRUNCATED, DICOM_PARSE_FAILED,
 *   DICOM_TRANSFER_SYNTAX_UNSUPPORTED.
 */
export async function locateDataset(bytes: Uint8Array, limits: InflateLimits): Promise<LocatedDataset> {
  const header = readPart10Header(bytes);
  const { transferSyntax } = header;
  const dataset = transferSyntax.deflated ? await inflateDataset(header.body, limits) : header.body;
  return {
    transferSyntaxUid: header.transferSyntaxUid,
    transferSyntax,
    syntax: correctVrEncoding(dataset, transferSyntax),
    dataset,
    ...(header.mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid: header.mediaStorageSopInstanceUid }),
  };
}

/**
 * Some writers label an implicit-VR dataset explicit or the reverse. As pydicom and DCMTK do, trust the first
 * element over the label when the label cannot be right: no valid VR where explicit VR needs one, or an
 * implicit length that would run past the end where a valid VR stands. Little Endian only.
 */
export function correctVrEncoding(dataset: Uint8Array, syntax: TransferSyntax): ElementSyntax {
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
  readonly mediaStorageSopClassUid?: string;
  readonly mediaStorageSopInstanceUid?: string;
}

/** Walks (0002,eeee) elements, always Explicit VR Little Endian (PS3.10 7.1). The group length is not trusted. */
function readMetaGroup(bytes: Uint8Array, start: number): MetaGroup {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let pos = start;
  let transferSyntaxUid: string | undefined;
  let mediaStorageSopClassUid: string | undefined;
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
    if (element === MEDIA_STORAGE_SOP_CLASS_UID_ELEMENT) mediaStorageSopClassUid = readUid(bytes, valueOffset, length);
    if (element === MEDIA_STORAGE_SOP_INSTANCE_UID_ELEMENT) mediaStorageSopInstanceUid = readUid(bytes, valueOffset, length);
    pos = valueOffset + length;
  }
  return {
    end: pos,
    ...(transferSyntaxUid === undefined ? {} : { transferSyntaxUid }),
    ...(mediaStorageSopClassUid === undefined ? {} : { mediaStorageSopClassUid }),
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
 * Deflated Explicit VR Little Endian (PS3.5 A.5): everything after the meta group is raw DEFLATE (RFC 1951;
 * a few writers wrap it in zlib, RFC 1950, which is accepted too). A few kilobytes of it can claim
 * gigabytes, so it is inflated by bounded-inflate.ts, which stops as soon as the output passes the limit.
 */
async function inflateDataset(deflated: Uint8Array, limits: InflateLimits): Promise<Uint8Array> {
  const limitBytes = inflatedByteLimit(deflated.length, limits);
  const outcome = await inflateAtMost(deflated, limitBytes);
  switch (outcome.kind) {
    case 'inflated':
      return outcome.bytes;
    case 'too-large':
      throw dicomError(
        'DICOM_INFLATE_LIMIT_EXCEEDED',
        'The deflated dataset inflates beyond the limit (VIGIL_MAX_INPUT_BYTES, or VIGIL_MAX_INFLATE_RATIO times its deflated size)',
        { limitBytes, deflatedBytes: deflated.length, maxInflatedBytes: limits.maxInflatedBytes, maxInflateRatio: limits.maxInflateRatio },
      );
    case 'invalid':
      if (outcome.truncated) throw dicomError('DICOM_TRUNCATED', 'The deflated dataset ends early', {}, outcome.cause);
      throw dicomError('DICOM_PARSE_FAILED', 'The deflated dataset cannot be inflated', {}, outcome.cause);
  }
}
