/**
 * Test support: a minimal DICOM byte builder, so hostile and unusual files are made in code instead of being
 * committed (STYLE.md, "Build fixtures in code with builders"). It writes exactly what it is told, including
 * wrong lengths, wrong VRs and unterminated items, and validates nothing. Not used by the reader itself.
 */
import { constants as zlibConstants, deflateRawSync } from 'node:zlib';

export interface ElementSyntax {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}

export type ElementValue = string | readonly number[] | Uint8Array | readonly (readonly ElementSpec[])[];

export interface ElementSpec {
  readonly tag: number;
  readonly vr: string;
  readonly value?: ElementValue;
  /** Writes this length instead of the real one (the value bytes are written as they are). */
  readonly length?: number;
  /** Undefined length: sequences get delimiters (and their items too); binary values are written as given. */
  readonly undefinedLength?: boolean;
}

/** An element whose bytes are written verbatim (any header, any content). */
export interface RawBytes {
  readonly raw: Uint8Array;
}

export type DatasetPart = ElementSpec | RawBytes;

export const EXPLICIT_LE: ElementSyntax = { explicitVR: true, littleEndian: true };
export const IMPLICIT_LE: ElementSyntax = { explicitVR: false, littleEndian: true };
export const EXPLICIT_BE: ElementSyntax = { explicitVR: true, littleEndian: false };

const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const NUMERIC_WIDTH: Readonly<Record<string, number>> = { US: 2, SS: 2, UL: 4, SL: 4, FL: 4, FD: 8, AT: 4, SV: 8, UV: 8 };
const UNDEFINED = 0xffffffff;

export function el(tag: number, vr: string, value?: ElementValue, options: { length?: number; undefinedLength?: boolean } = {}): ElementSpec {
  return { tag, vr, ...(value === undefined ? {} : { value }), ...options };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function u16(value: number, littleEndian = true): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, littleEndian);
  return out;
}

export function u32(value: number, littleEndian = true): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, littleEndian);
  return out;
}

export function tagBytes(tag: number, littleEndian = true): Uint8Array {
  return concat([u16(tag >>> 16, littleEndian), u16(tag & 0xffff, littleEndian)]);
}

/** Samples as bytes in the given order: 8, 16 or 32 bits each. */
export function sampleBytes(values: ArrayLike<number>, bits: 8 | 16 | 32, littleEndian = true): Uint8Array {
  const width = bits / 8;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    if (bits === 8) view.setUint8(i, value & 0xff);
    else if (bits === 16) view.setUint16(i * 2, value & 0xffff, littleEndian);
    else view.setUint32(i * 4, value >>> 0, littleEndian);
  }
  return out;
}

function encodeValue(spec: ElementSpec, syntax: ElementSyntax): Uint8Array {
  const { value, vr } = spec;
  if (value === undefined) return new Uint8Array(0);
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    if (bytes.length % 2 === 0) return bytes;
    return concat([bytes, new Uint8Array([vr === 'UI' || vr === 'OB' ? 0 : 0x20])]);
  }
  if (vr === 'SQ') return encodeItems(value as readonly (readonly ElementSpec[])[], syntax, spec.undefinedLength === true);
  const numbers = value as readonly number[];
  const width = NUMERIC_WIDTH[vr] ?? 2;
  const out = new Uint8Array(numbers.length * width);
  const view = new DataView(out.buffer);
  numbers.forEach((n, i) => {
    if (vr === 'FL') view.setFloat32(i * width, n, syntax.littleEndian);
    else if (vr === 'FD') view.setFloat64(i * width, n, syntax.littleEndian);
    else if (vr === 'SS') view.setInt16(i * width, n, syntax.littleEndian);
    else if (vr === 'SL') view.setInt32(i * width, n, syntax.littleEndian);
    else if (width === 4) view.setUint32(i * width, n >>> 0, syntax.littleEndian);
    else if (width === 8) view.setBigUint64(i * width, BigInt(n), syntax.littleEndian);
    else view.setUint16(i * width, n, syntax.littleEndian);
  });
  return out;
}

function encodeItems(items: readonly (readonly ElementSpec[])[], syntax: ElementSyntax, undefinedLength: boolean): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const body = encodeDataset(item, syntax);
    parts.push(tagBytes(0xfffee000, syntax.littleEndian), u32(undefinedLength ? UNDEFINED : body.length, syntax.littleEndian), body);
    if (undefinedLength) parts.push(tagBytes(0xfffee00d, syntax.littleEndian), u32(0));
  }
  if (undefinedLength) parts.push(tagBytes(0xfffee0dd, syntax.littleEndian), u32(0));
  return concat(parts);
}

export function encodeElement(spec: ElementSpec, syntax: ElementSyntax): Uint8Array {
  const value = encodeValue(spec, syntax);
  const length = spec.undefinedLength ? UNDEFINED : (spec.length ?? value.length);
  const tag = tagBytes(spec.tag, syntax.littleEndian);
  if (!syntax.explicitVR) return concat([tag, u32(length, syntax.littleEndian), value]);
  const vr = new Uint8Array([spec.vr.charCodeAt(0), spec.vr.charCodeAt(1)]);
  if (LONG_VRS.has(spec.vr)) return concat([tag, vr, new Uint8Array(2), u32(length, syntax.littleEndian), value]);
  return concat([tag, vr, u16(length, syntax.littleEndian), value]);
}

export function encodeDataset(parts: readonly DatasetPart[], syntax: ElementSyntax): Uint8Array {
  return concat(parts.map((part) => ('raw' in part ? part.raw : encodeElement(part, syntax))));
}

/**
 * The value of a sequence sent with VR UN (PS3.5 6.2.2): its items in Implicit VR Little Endian, whatever
 * the transfer syntax around it; with `undefinedLength`, item and sequence delimiters included. Nested
 * specs are written without VRs, so a sequence inside is recognised only by its tag (or undefined length).
 */
export function implicitItems(items: readonly (readonly DatasetPart[])[], undefinedLength = false): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const body = encodeDataset(item, IMPLICIT_LE);
    parts.push(tagBytes(0xfffee000), u32(undefinedLength ? UNDEFINED : body.length), body);
    if (undefinedLength) parts.push(tagBytes(0xfffee00d), u32(0));
  }
  if (undefinedLength) parts.push(tagBytes(0xfffee0dd), u32(0));
  return concat(parts);
}

/** A sequence written with VR UN, as toolkits write unknown or private sequences (PS3.5 6.2.2). */
export function unSequence(tag: number, items: readonly (readonly DatasetPart[])[], options: { undefinedLength?: boolean } = {}): ElementSpec {
  const undefinedLength = options.undefinedLength === true;
  return el(tag, 'UN', implicitItems(items, undefinedLength), undefinedLength ? { undefinedLength } : {});
}

/**
 * The value of encapsulated Pixel Data (PS3.5 A.4): Basic Offset Table item, one item per fragment, sequence
 * delimiter. Use with `el(0x7fe00010, 'OB', value, { undefinedLength: true })`.
 */
export function fragmentsValue(fragments: readonly Uint8Array[], basicOffsets: readonly number[] = []): Uint8Array {
  const parts: Uint8Array[] = [tagBytes(0xfffee000), u32(basicOffsets.length * 4), ...basicOffsets.map((offset) => u32(offset))];
  for (const fragment of fragments) parts.push(tagBytes(0xfffee000), u32(fragment.length), fragment);
  parts.push(tagBytes(0xfffee0dd), u32(0));
  return concat(parts);
}

/** Basic Offset Table entries for frames given as lists of fragments. */
export function basicOffsetsOf(frames: readonly (readonly Uint8Array[])[]): number[] {
  const offsets: number[] = [];
  let offset = 0;
  for (const frame of frames) {
    offsets.push(offset);
    for (const fragment of frame) offset += 8 + fragment.length;
  }
  return offsets;
}

/** Splits bytes into `count` nearly equal fragments of even length (the last may be odd). */
export function splitInto(bytes: Uint8Array, count: number): Uint8Array[] {
  const size = Math.max(2, Math.ceil(bytes.length / count / 2) * 2);
  const out: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += size) out.push(bytes.slice(start, start + size));
  return out;
}

export const SYNTHETIC_IDENTIFIERS = {
  patientName: 'SYNTHETIC^PATIENT',
  patientId: 'SYNTH-PID-0001',
  studyInstanceUid: '1.2.826.0.1.3680043.10.543.1',
  seriesInstanceUid: '1.2.826.0.1.3680043.10.543.1.2',
  sopInstanceUid: '1.2.826.0.1.3680043.10.543.1.2.3',
} as const;

export interface ImageSpec {
  readonly rows: number;
  readonly columns: number;
  readonly bitsAllocated: number;
  readonly bitsStored?: number;
  readonly pixelRepresentation?: number;
  readonly samplesPerPixel?: number;
  readonly photometric?: string;
  readonly planarConfiguration?: number;
  readonly frames?: number;
  readonly modality?: string;
  /** The Pixel Data element; omitted for a dataset without pixels. */
  readonly pixelData?: ElementSpec;
  readonly extra?: readonly ElementSpec[];
}

/** A dataset with SYNTHETIC^PATIENT identifiers and the Image Pixel module, sorted by tag. */
export function imageDataset(spec: ImageSpec): ElementSpec[] {
  const samples = spec.samplesPerPixel ?? 1;
  const elements: ElementSpec[] = [
    el(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    el(0x00080018, 'UI', SYNTHETIC_IDENTIFIERS.sopInstanceUid),
    el(0x00080060, 'CS', spec.modality ?? 'OT'),
    el(0x00100010, 'PN', SYNTHETIC_IDENTIFIERS.patientName),
    el(0x00100020, 'LO', SYNTHETIC_IDENTIFIERS.patientId),
    el(0x0020000d, 'UI', SYNTHETIC_IDENTIFIERS.studyInstanceUid),
    el(0x0020000e, 'UI', SYNTHETIC_IDENTIFIERS.seriesInstanceUid),
    el(0x00280002, 'US', [samples]),
    el(0x00280004, 'CS', spec.photometric ?? (samples === 3 ? 'RGB' : 'MONOCHROME2')),
    el(0x00280010, 'US', [spec.rows]),
    el(0x00280011, 'US', [spec.columns]),
    el(0x00280100, 'US', [spec.bitsAllocated]),
    el(0x00280101, 'US', [spec.bitsStored ?? spec.bitsAllocated]),
    el(0x00280102, 'US', [(spec.bitsStored ?? spec.bitsAllocated) - 1]),
    el(0x00280103, 'US', [spec.pixelRepresentation ?? 0]),
    ...(samples === 3 ? [el(0x00280006, 'US', [spec.planarConfiguration ?? 0])] : []),
    ...(spec.frames === undefined ? [] : [el(0x00280008, 'IS', String(spec.frames))]),
    ...(spec.pixelData ? [spec.pixelData] : []),
    ...(spec.extra ?? []),
  ];
  return elements.sort((a, b) => a.tag - b.tag);
}

export interface Part10Options {
  readonly transferSyntaxUid: string;
  readonly preamble?: Uint8Array;
  /** Defaults to the encoding `transferSyntaxUid` implies. */
  readonly syntax?: ElementSyntax;
  /** Written instead of the standard meta group. */
  readonly meta?: Uint8Array;
}

export function syntaxOf(transferSyntaxUid: string): ElementSyntax {
  if (transferSyntaxUid === '1.2.840.10008.1.2') return IMPLICIT_LE;
  if (transferSyntaxUid === '1.2.840.10008.1.2.2') return EXPLICIT_BE;
  return EXPLICIT_LE;
}

export function metaGroup(transferSyntaxUid: string): Uint8Array {
  const elements = encodeDataset(
    [
      el(0x00020001, 'OB', new Uint8Array([0, 1])),
      el(0x00020002, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
      el(0x00020003, 'UI', SYNTHETIC_IDENTIFIERS.sopInstanceUid),
      el(0x00020010, 'UI', transferSyntaxUid),
      el(0x00020012, 'UI', '1.2.826.0.1.3680043.10.543.99'),
    ],
    EXPLICIT_LE,
  );
  return concat([encodeElement(el(0x00020000, 'UL', [elements.length]), EXPLICIT_LE), elements]);
}

/** PS3.10 file: preamble, "DICM", meta group, dataset (deflated for 1.2.840.10008.1.2.1.99). */
export function buildPart10(dataset: readonly DatasetPart[] | Uint8Array, options: Part10Options): Uint8Array {
  const syntax = options.syntax ?? syntaxOf(options.transferSyntaxUid);
  let body = dataset instanceof Uint8Array ? dataset : encodeDataset(dataset, syntax);
  if (options.transferSyntaxUid === '1.2.840.10008.1.2.1.99') body = deflateRawSync(body);
  return concat([options.preamble ?? new Uint8Array(128), new TextEncoder().encode('DICM'), options.meta ?? metaGroup(options.transferSyntaxUid), body]);
}

/**
 * `depth` sequences nested inside one another, built iteratively (a recursive builder would hit the stack
 * first). Undefined lengths with delimiters, or defined lengths computed from the inside out.
 */
export function nestedSequences(depth: number, undefinedLength: boolean, syntax: ElementSyntax = EXPLICIT_LE): Uint8Array {
  const sequenceHeader = (length: number): Uint8Array =>
    syntax.explicitVR
      ? concat([tagBytes(0x00081115, syntax.littleEndian), new TextEncoder().encode('SQ'), new Uint8Array(2), u32(length, syntax.littleEndian)])
      : concat([tagBytes(0x00081115, syntax.littleEndian), u32(length, syntax.littleEndian)]);
  const item = (length: number): Uint8Array => concat([tagBytes(0xfffee000, syntax.littleEndian), u32(length, syntax.littleEndian)]);
  const delimiters = concat([tagBytes(0xfffee00d, syntax.littleEndian), u32(0), tagBytes(0xfffee0dd, syntax.littleEndian), u32(0)]);
  if (undefinedLength) {
    const opening = concat([sequenceHeader(UNDEFINED), item(UNDEFINED)]);
    const out = new Uint8Array(depth * (opening.length + delimiters.length));
    for (let i = 0; i < depth; i++) {
      out.set(opening, i * opening.length);
      out.set(delimiters, depth * opening.length + i * delimiters.length);
    }
    return out;
  }
  // Defined lengths, outermost first: level i's item holds the (depth - i - 1) levels inside it.
  const level = sequenceHeader(0).length + item(0).length;
  const out = new Uint8Array(depth * level);
  for (let i = 0; i < depth; i++) {
    const itemLength = (depth - i - 1) * level;
    out.set(concat([sequenceHeader(item(0).length + itemLength), item(itemLength)]), i * level);
  }
  return out;
}

/**
 * A decompression bomb: a Deflated Explicit VR Little Endian Part 10 file whose dataset is a small image
 * header and a Pixel Data (OB) of `zeroBytes` zeros, built without ever holding the zeros. Deflate needs
 * about 1 byte per 1,030 zeros; one 1 MiB run of zeros is deflated once, flushed to a byte boundary with
 * no history, and the same bytes repeated (each copy refers only to itself), so a 1.5 GB bomb is
 * about 1.5 MB and takes milliseconds to build.
 */
export function deflatedBomb(zeroBytes: number): Uint8Array {
  if (!Number.isSafeInteger(zeroBytes) || zeroBytes < 0 || zeroBytes % 2 !== 0 || zeroBytes > 0xfffffffe) throw new Error('zeroBytes: an even 32-bit length');
  const head = encodeDataset(imageDataset({ rows: 1, columns: 1, bitsAllocated: 8 }), EXPLICIT_LE);
  const pixelHeader = concat([tagBytes(0x7fe00010), new TextEncoder().encode('OB'), new Uint8Array(2), u32(zeroBytes)]);
  // Z_SYNC_FLUSH instead of finishing: non-final blocks ending on a byte boundary, so streams can be chained.
  const open = (bytes: Uint8Array): Buffer => deflateRawSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  const unitBytes = 1 << 20;
  const unit = open(new Uint8Array(unitBytes));
  const units = Math.floor(zeroBytes / unitBytes);
  const rest = open(new Uint8Array(zeroBytes - units * unitBytes));
  const body = new Uint8Array(units * unit.length);
  for (let i = 0; i < units; i++) body.set(unit, i * unit.length);
  // The last block: empty and final (BFINAL=1, fixed Huffman, end of block).
  const last = deflateRawSync(new Uint8Array(0));
  const deflated = concat([open(concat([head, pixelHeader])), body, rest, last]);
  const meta = metaGroup('1.2.840.10008.1.2.1.99');
  return concat([new Uint8Array(128), new TextEncoder().encode('DICM'), meta, deflated]);
}
