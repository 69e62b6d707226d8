/**
 * Element-level reading and writing for de-identification. The original bytes are walked (the same rules as
 * dataset-scanner.ts: every length checked against the bytes there, nesting bounded) into the domain's
 * DeidDataset, and the edited dataset is written back in the file's own transfer syntax. Values the rules keep
 * are written back byte for byte (text is carried one character per byte, whatever the character set);
 * Pixel Data is never touched: native pixels stay the same bytes, encapsulated fragments (Basic Offset Table
 * included) are copied verbatim. dcmjs's writer is not used: it drops private elements it cannot name and
 * rewrites character sets (../../../../shared/notes/dicom-in-node.md).
 *
 * Lengths are recomputed: sequences and items are written with defined lengths, the File Meta Information
 * Group Length is recomputed, group lengths inside the dataset (retired) are dropped by the domain.
 *
 * Nothing is passed through uninspected: a value sent as UN (or in Implicit VR) is decoded with its dictionary
 * VR, a sequence into items at any depth, and written back with that VR (a UN sequence becomes an SQ in the
 * file's syntax); what cannot be decoded reaches the domain as `uninspectable` and is removed (TreeReader).
 */
import { deflateRawSync } from 'node:zlib';
import { latin1String } from './latin1.js';
import { TEXT_VRS, type DeidDataset, type DeidElement } from '../../../domain/deidentification/deid-dataset.js';
import { isPlatformError } from '../../../domain/errors.js';
import { dicomError } from './dicom-error.js';
import { IMPLICIT_LITTLE_ENDIAN_SYNTAX, PIXEL_DATA_TAG, isKnownVr, readVr, type ElementSyntax } from './dataset-scanner.js';
import { decodingVr } from './dictionary.js';
import { hasPart10Signature, locateDataset, type InflateLimits } from './part10.js';
import type { TransferSyntax } from './transfer-syntax.js';

export interface ParsedForDeid {
  readonly meta: DeidDataset;
  readonly dataset: DeidDataset;
  readonly transferSyntaxUid: string;
  readonly transferSyntax: TransferSyntax;
  readonly syntax: ElementSyntax;
  /** (0002,0003) as the File Meta Information says it. */
  readonly mediaStorageSopInstanceUid?: string;
}

const ITEM_TAG = 0xfffee000;
const ITEM_DELIMITATION_TAG = 0xfffee00d;
const SEQUENCE_DELIMITATION_TAG = 0xfffee0dd;
const UNDEFINED_LENGTH = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const MAX_DEPTH = 32;
const EXPLICIT_LE: ElementSyntax = { explicitVR: true, littleEndian: true };

/** Inflates a Deflated dataset once, within `limits` (part10.ts). */
export async function parseForDeid(bytes: Uint8Array, limits: InflateLimits): Promise<ParsedForDeid> {
  const located = await locateDataset(bytes, limits);
  const metaStart = hasPart10Signature(bytes) ? 132 : 0;
  const metaReader = new TreeReader(bytes, EXPLICIT_LE);
  const meta = metaReader.readMeta(metaStart);
  const dataset = new TreeReader(located.dataset, located.syntax).readTop();
  return {
    meta,
    dataset,
    transferSyntaxUid: located.transferSyntaxUid,
    transferSyntax: located.transferSyntax,
    syntax: located.syntax,
    ...(located.mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid: located.mediaStorageSopInstanceUid }),
  };
}

/**
 * Bytes per value of each binary VR (PS3.5 Table 6.2-1), and the width of the words whose bytes a change of
 * byte order reverses (an AT value is two 16-bit words). 'ox' is the dictionary's "OB or OW".
 */
const BINARY_VRS: Readonly<Record<string, { readonly value: number; readonly word: number }>> = {
  OB: { value: 1, word: 1 },
  UN: { value: 1, word: 1 },
  ox: { value: 1, word: 1 },
  US: { value: 2, word: 2 },
  SS: { value: 2, word: 2 },
  OW: { value: 2, word: 2 },
  AT: { value: 4, word: 2 },
  UL: { value: 4, word: 4 },
  SL: { value: 4, word: 4 },
  FL: { value: 4, word: 4 },
  OL: { value: 4, word: 4 },
  OF: { value: 4, word: 4 },
  FD: { value: 8, word: 8 },
  SV: { value: 8, word: 8 },
  UV: { value: 8, word: 8 },
  OD: { value: 8, word: 8 },
  OV: { value: 8, word: 8 },
};

function isPrivate(tag: number): boolean {
  return ((tag >>> 16) & 1) === 1;
}

function uninspectable(tag: number): DeidElement {
  return { tag, vr: 'UN', value: { kind: 'uninspectable' } };
}

/** A copy with the bytes of every `word`-byte word reversed: little endian to big endian and back. */
function swapWords(bytes: Uint8Array, word: number): Uint8Array {
  if (word === 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + word <= bytes.length; i += word) for (let k = 0; k < word; k++) out[i + k] = bytes[i + word - 1 - k] ?? 0;
  return out;
}

/**
 * Walks a dataset into DeidElements. Every element comes out either decoded, so that the profile's rule for its
 * tag can be applied to what it holds, or `uninspectable`, which the de-identifier removes (deid-dataset.ts):
 *
 * - An element with an explicit VR other than UN is read as that VR, except that a tag the dictionary makes a
 *   sequence, sent as anything but SQ or UN, is uninspectable (its items cannot be told from its bytes).
 * - A value of unknown VR (sent as UN, or any value in Implicit VR) is read as PS3.5 6.2.2 says: Implicit VR
 *   Little Endian, whatever the transfer syntax around it, with the VR the data dictionary gives its tag; a
 *   sequence (of defined or undefined length) is read as Implicit VR items, recursively. A public tag the
 *   dictionary does not know, or a value that does not parse as its dictionary VR, is uninspectable.
 *   Decoded values are held as if the sender had written the real VR in the file's syntax (binary values in
 *   the file's byte order), so that a sequence sent as UN is written back as a normal SQ.
 * - Private creators are LO (PS3.5 7.8.1) whatever VR they were sent with; other private values of unknown VR
 *   stay UN bytes, for the safe-private rules to judge.
 * - An undefined length is a sequence (or encapsulated Pixel Data); sent as UN or in Implicit VR, one whose
 *   public tag the dictionary does not make a sequence is uninspectable.
 */
class TreeReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  /** The syntax the dataset is written back in: the byte order and VR labels decoded values take. */
  readonly #target: ElementSyntax;

  constructor(bytes: Uint8Array, target: ElementSyntax) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#target = target;
  }

  readMeta(start: number): DeidElement[] {
    const out: DeidElement[] = [];
    let pos = start;
    while (pos + 8 <= this.#bytes.length && this.#view.getUint16(pos, true) === 0x0002) {
      const { element, end } = this.#element(pos, this.#bytes.length, EXPLICIT_LE, 0);
      out.push(element);
      pos = end;
    }
    return out;
  }

  readTop(): DeidElement[] {
    return this.#elements(0, this.#bytes.length, this.#target, 0, false).elements;
  }

  #elements(start: number, limit: number, syntax: ElementSyntax, depth: number, inUndefinedItem: boolean): { elements: DeidElement[]; end: number } {
    const elements: DeidElement[] = [];
    let pos = start;
    while (pos < limit) {
      this.#need(pos, 8, limit);
      const tag = this.#tag(pos, syntax);
      if (tag === ITEM_DELIMITATION_TAG && inUndefinedItem) return { elements, end: pos + 8 };
      if (tag >>> 16 === 0xfffe) throw dicomError('DICOM_PARSE_FAILED', 'Unexpected item or delimiter tag in a dataset');
      const { element, end } = this.#element(pos, limit, syntax, depth);
      elements.push(element);
      pos = end;
      // Stop after the top-level Pixel Data, as the reader does: what follows is padding or signatures.
      if (depth === 0 && tag === PIXEL_DATA_TAG) return { elements, end: pos };
    }
    if (inUndefinedItem) throw dicomError('DICOM_TRUNCATED', 'An undefined-length item has no delimiter');
    return { elements, end: pos };
  }

  #element(pos: number, limit: number, syntax: ElementSyntax, depth: number): { element: DeidElement; end: number } {
    this.#need(pos, 8, limit);
    const tag = this.#tag(pos, syntax);
    /** The VR the sender wrote; undefined in Implicit VR. */
    let written: string | undefined;
    let length: number;
    let valueOffset: number;
    if (syntax.explicitVR) {
      written = readVr(this.#bytes, pos + 4);
      if (!isKnownVr(written)) throw dicomError('DICOM_PARSE_FAILED', 'An element has an invalid value representation');
      if (LONG_VRS.has(written)) {
        this.#need(pos, 12, limit);
        length = this.#u32(pos + 8, syntax.littleEndian);
        valueOffset = pos + 12;
      } else {
        length = this.#u16(pos + 6, syntax.littleEndian);
        valueOffset = pos + 8;
      }
    } else {
      length = this.#u32(pos + 4, true);
      valueOffset = pos + 8;
    }
    if (length === UNDEFINED_LENGTH) {
      if (tag === PIXEL_DATA_TAG) {
        const end = this.#fragmentsEnd(valueOffset, limit, syntax);
        return { element: { tag, vr: 'OB', value: { kind: 'bytes', bytes: this.#bytes.slice(valueOffset, end), encapsulated: true } }, end };
      }
      if (written !== undefined && written !== 'SQ' && written !== 'UN')
        throw dicomError('DICOM_PARSE_FAILED', 'Undefined length on an element that cannot have one');
      // PS3.5 6.2.2: an undefined-length UN is a sequence whose items are Implicit VR Little Endian.
      const itemSyntax = written === 'SQ' ? syntax : IMPLICIT_LITTLE_ENDIAN_SYNTAX;
      const { items, end } = this.#items(valueOffset, limit, true, itemSyntax, depth);
      // Sent as UN or in Implicit VR, a public tag must be a sequence by the dictionary. One the dictionary does
      // not know could be kept as a sequence here, but not written back so (Vigil writes defined lengths, and an
      // Implicit VR reader could no longer tell it from bytes), so it goes like any unknown value of unknown VR.
      const expected = written === 'SQ' || isPrivate(tag) ? 'SQ' : decodingVr(tag);
      return { element: expected === 'SQ' ? { tag, vr: 'SQ', value: { kind: 'sequence', items } } : uninspectable(tag), end };
    }
    const end = valueOffset + length;
    if (end > limit)
      throw dicomError(limit >= this.#bytes.length ? 'DICOM_TRUNCATED' : 'DICOM_PARSE_FAILED', 'An element is longer than the data that holds it');
    if (written === 'SQ') {
      const { items } = this.#items(valueOffset, end, false, syntax, depth);
      return { element: { tag, vr: 'SQ', value: { kind: 'sequence', items } }, end };
    }
    if (written !== undefined && written !== 'UN') {
      if (!isPrivate(tag) && decodingVr(tag) === 'SQ') return { element: uninspectable(tag), end };
      return { element: this.#leaf(tag, written, this.#bytes.subarray(valueOffset, end)), end };
    }
    return { element: this.#unknownVr(tag, valueOffset, end, depth), end };
  }

  #leaf(tag: number, vr: string, bytes: Uint8Array): DeidElement {
    if (TEXT_VRS.has(vr)) return { tag, vr, value: { kind: 'text', text: latin1String(bytes) } };
    return { tag, vr, value: { kind: 'bytes', bytes } };
  }

  /** A defined-length value sent as UN or in Implicit VR: Implicit VR Little Endian (PS3.5 6.2.2). */
  #unknownVr(tag: number, start: number, end: number, depth: number): DeidElement {
    const bytes = this.#bytes.subarray(start, end);
    if (isPrivate(tag)) {
      const element = tag & 0xffff;
      if (element >= 0x10 && element <= 0xff) return this.#leaf(tag, 'LO', bytes);
      return { tag, vr: 'UN', value: { kind: 'bytes', bytes } };
    }
    const vr = decodingVr(tag);
    if (vr === undefined) return uninspectable(tag);
    if (vr === 'SQ') {
      try {
        const { items } = this.#items(start, end, false, IMPLICIT_LITTLE_ENDIAN_SYNTAX, depth);
        return { tag, vr: 'SQ', value: { kind: 'sequence', items } };
      } catch (error) {
        // Not items after all: the value cannot be read as what its tag is. Limits still refuse the file.
        if (isPlatformError(error) && (error.code === 'DICOM_PARSE_FAILED' || error.code === 'DICOM_TRUNCATED')) return uninspectable(tag);
        throw error;
      }
    }
    if (TEXT_VRS.has(vr)) return this.#leaf(tag, vr, bytes);
    const widths = BINARY_VRS[vr];
    if (widths === undefined || bytes.length % widths.value !== 0) return uninspectable(tag);
    // "OB or OW": whether the bytes are words depends on Bits Allocated, so they stay little-endian UN in an
    // explicit syntax (PS3.5 6.2.2), and unlabelled in Implicit VR as before.
    if (vr === 'ox') return { tag, vr: this.#target.explicitVR ? 'UN' : 'OW', value: { kind: 'bytes', bytes } };
    return { tag, vr, value: { kind: 'bytes', bytes: this.#target.littleEndian ? bytes : swapWords(bytes, widths.word) } };
  }

  #items(start: number, limit: number, undefinedLength: boolean, syntax: ElementSyntax, depth: number): { items: DeidElement[][]; end: number } {
    if (depth + 1 > MAX_DEPTH)
      throw dicomError('DICOM_LIMIT_EXCEEDED', 'Sequences are nested deeper than the de-identifier allows', { maxSequenceDepth: MAX_DEPTH });
    const items: DeidElement[][] = [];
    let pos = start;
    while (pos < limit || undefinedLength) {
      this.#need(pos, 8, limit);
      const tag = this.#tag(pos, syntax);
      if (tag === SEQUENCE_DELIMITATION_TAG) {
        if (!undefinedLength) throw dicomError('DICOM_PARSE_FAILED', 'Sequence delimiter inside a defined-length sequence');
        return { items, end: pos + 8 };
      }
      if (tag !== ITEM_TAG) throw dicomError('DICOM_PARSE_FAILED', 'A sequence holds something other than items');
      const itemLength = this.#u32(pos + 4, syntax.littleEndian);
      if (itemLength === UNDEFINED_LENGTH) {
        const { elements, end } = this.#elements(pos + 8, limit, syntax, depth + 1, true);
        items.push(elements);
        pos = end;
      } else {
        const itemEnd = pos + 8 + itemLength;
        if (itemEnd > limit) throw dicomError('DICOM_PARSE_FAILED', 'An item is longer than the sequence that holds it');
        items.push(this.#elements(pos + 8, itemEnd, syntax, depth + 1, false).elements);
        pos = itemEnd;
      }
    }
    return { items, end: pos };
  }

  /** The end of encapsulated Pixel Data, sequence delimiter included (PS3.5 A.4). */
  #fragmentsEnd(start: number, limit: number, syntax: ElementSyntax): number {
    let pos = start;
    for (;;) {
      if (pos === limit && limit === this.#bytes.length && pos > start) return pos;
      this.#need(pos, 8, limit);
      const tag = this.#tag(pos, syntax);
      const length = this.#u32(pos + 4, syntax.littleEndian);
      if (tag === SEQUENCE_DELIMITATION_TAG) return pos + 8;
      if (tag !== ITEM_TAG || length === UNDEFINED_LENGTH)
        throw dicomError('DICOM_PARSE_FAILED', 'Encapsulated Pixel Data holds something other than fragments');
      if (pos + 8 + length > limit) throw dicomError('DICOM_TRUNCATED', 'A Pixel Data fragment is longer than the data that holds it');
      pos += 8 + length;
    }
  }

  #need(pos: number, count: number, limit: number): void {
    if (pos + count > limit) throw dicomError(limit >= this.#bytes.length ? 'DICOM_TRUNCATED' : 'DICOM_PARSE_FAILED', 'The data ends inside an element header');
  }

  #tag(pos: number, syntax: ElementSyntax): number {
    return ((this.#u16(pos, syntax.littleEndian) << 16) | this.#u16(pos + 2, syntax.littleEndian)) >>> 0;
  }

  #u16(offset: number, littleEndian: boolean): number {
    return this.#view.getUint16(offset, littleEndian);
  }

  #u32(offset: number, littleEndian: boolean): number {
    return this.#view.getUint32(offset, littleEndian);
  }
}

/** Growable output buffer. */
class ByteSink {
  #buffer = new Uint8Array(64 * 1024);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  #reserve(count: number): void {
    if (this.#length + count <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + count) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
  }

  u16(value: number, littleEndian: boolean): void {
    this.#reserve(2);
    new DataView(this.#buffer.buffer).setUint16(this.#length, value, littleEndian);
    this.#length += 2;
  }

  u32(value: number, littleEndian: boolean): void {
    this.#reserve(4);
    new DataView(this.#buffer.buffer).setUint32(this.#length, value >>> 0, littleEndian);
    this.#length += 4;
  }

  /** Overwrites a 32-bit length written earlier. */
  patchU32(at: number, value: number, littleEndian: boolean): void {
    new DataView(this.#buffer.buffer).setUint32(at, value >>> 0, littleEndian);
  }

  result(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

/** Latin-1 (one byte per character), padded to even length: UI with NUL, other strings with a space (PS3.5 6.2). */
function encodeText(text: string, vr: string): Uint8Array {
  const padded = text.length % 2 === 1 ? text + (vr === 'UI' ? '\0' : ' ') : text;
  const out = new Uint8Array(padded.length);
  for (let i = 0; i < padded.length; i++) out[i] = padded.charCodeAt(i) & 0xff;
  return out;
}

export function writeDataset(dataset: DeidDataset, syntax: ElementSyntax): Uint8Array {
  const sink = new ByteSink();
  writeElements(sink, dataset, syntax);
  return sink.result();
}

function writeElements(sink: ByteSink, dataset: DeidDataset, syntax: ElementSyntax): void {
  for (const e of dataset) writeElement(sink, e, syntax);
}

function writeHeader(sink: ByteSink, tag: number, vr: string, length: number, syntax: ElementSyntax): number {
  const le = syntax.littleEndian;
  sink.u16(tag >>> 16, le);
  sink.u16(tag & 0xffff, le);
  if (!syntax.explicitVR) {
    const at = sink.length;
    sink.u32(length, le);
    return at;
  }
  sink.bytes(new Uint8Array([vr.charCodeAt(0), vr.charCodeAt(1)]));
  if (LONG_VRS.has(vr)) {
    sink.u16(0, le);
    const at = sink.length;
    sink.u32(length, le);
    return at;
  }
  if (length > 0xffff) throw dicomError('DICOM_LIMIT_EXCEEDED', 'A value is too long for its value representation');
  sink.u16(length, le);
  return -1;
}

/**
 * PS3.5 6.2.2 (CP-1066): in an explicit syntax, a value too long for its VR's 16-bit length field is written
 * as UN, whose value is always little endian; such a value can come from an Implicit VR or UN input.
 */
const MAX_SHORT_LENGTH = 0xfffe;

function writeValue(sink: ByteSink, e: DeidElement, bytes: Uint8Array, syntax: ElementSyntax): void {
  if (syntax.explicitVR && !LONG_VRS.has(e.vr) && bytes.length > MAX_SHORT_LENGTH) {
    const word = BINARY_VRS[e.vr]?.word ?? 1;
    const value = syntax.littleEndian ? bytes : swapWords(bytes, word);
    writeHeader(sink, e.tag, 'UN', value.length, syntax);
    sink.bytes(value);
    return;
  }
  writeHeader(sink, e.tag, e.vr, bytes.length, syntax);
  sink.bytes(bytes);
}

function writeElement(sink: ByteSink, e: DeidElement, syntax: ElementSyntax): void {
  const v = e.value;
  const le = syntax.littleEndian;
  switch (v.kind) {
    case 'uninspectable':
      // Never passed through: the de-identifier removes these, and no other writer may copy them.
      return;
    case 'text':
      writeValue(sink, e, encodeText(v.text, e.vr), syntax);
      return;
    case 'bytes':
      if (v.encapsulated === true) {
        writeHeader(sink, e.tag, 'OB', UNDEFINED_LENGTH, syntax);
        sink.bytes(v.bytes);
        return;
      }
      writeValue(sink, e, v.bytes.length % 2 === 1 ? Uint8Array.from([...v.bytes, 0]) : v.bytes, syntax);
      return;
    case 'sequence': {
      // Every sequence is written as SQ in the file's own syntax, one sent as UN included (its items were
      // decoded from Implicit VR Little Endian into the file's byte order): downstream sees a normal sequence.
      const at = writeHeader(sink, e.tag, 'SQ', 0, syntax);
      const start = sink.length;
      for (const item of v.items) writeItem(sink, item, syntax);
      sink.patchU32(at, sink.length - start, le);
      return;
    }
  }
}

function writeItem(sink: ByteSink, item: DeidDataset, syntax: ElementSyntax): void {
  const le = syntax.littleEndian;
  sink.u16(0xfffe, le);
  sink.u16(0xe000, le);
  const at = sink.length;
  sink.u32(0, le);
  const start = sink.length;
  writeElements(sink, item, syntax);
  sink.patchU32(at, sink.length - start, le);
}

/**
 * PS3.10 7.1: a zeroed 128-byte preamble, "DICM", the File Meta Information in Explicit VR Little Endian with
 * a correct (0002,0000) group length, then the dataset (deflated again for the Deflated transfer syntax).
 */
export function writePart10(meta: DeidDataset, dataset: DeidDataset, syntax: ElementSyntax, deflated: boolean): Uint8Array {
  const metaBody = writeDataset(
    meta.filter((e) => e.tag !== 0x00020000),
    EXPLICIT_LE,
  );
  const groupLength = new ByteSink();
  writeHeader(groupLength, 0x00020000, 'UL', 4, EXPLICIT_LE);
  groupLength.u32(metaBody.length, true);
  const body = writeDataset(dataset, syntax);
  const data = deflated ? deflateRawSync(body) : body;
  const header = groupLength.result();
  const out = new Uint8Array(132 + header.length + metaBody.length + data.length);
  out.set([0x44, 0x49, 0x43, 0x4d], 128);
  out.set(header, 132);
  out.set(metaBody, 132 + header.length);
  out.set(data, 132 + header.length + metaBody.length);
  return out;
}
