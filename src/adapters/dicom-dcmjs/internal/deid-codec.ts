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
 */
import { deflateRawSync } from 'node:zlib';
import { latin1String } from './latin1.js';
import { TEXT_VRS, type DeidDataset, type DeidElement } from '../../../domain/deidentification/deid-dataset.js';
import { dicomError } from './dicom-error.js';
import { IMPLICIT_LITTLE_ENDIAN_SYNTAX, PIXEL_DATA_TAG, isKnownVr, readVr, type ElementSyntax } from './dataset-scanner.js';
import { dictionaryVr } from './dictionary.js';
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
  const metaReader = new TreeReader(bytes);
  const meta = metaReader.readMeta(metaStart);
  const dataset = new TreeReader(located.dataset).readTop(located.syntax);
  return {
    meta,
    dataset,
    transferSyntaxUid: located.transferSyntaxUid,
    transferSyntax: located.transferSyntax,
    syntax: located.syntax,
    ...(located.mediaStorageSopInstanceUid === undefined ? {} : { mediaStorageSopInstanceUid: located.mediaStorageSopInstanceUid }),
  };
}

class TreeReader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
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

  readTop(syntax: ElementSyntax): DeidElement[] {
    return this.#elements(0, this.#bytes.length, syntax, 0, false).elements;
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
    let vr: string;
    let length: number;
    let valueOffset: number;
    if (syntax.explicitVR) {
      vr = readVr(this.#bytes, pos + 4);
      if (!isKnownVr(vr)) throw dicomError('DICOM_PARSE_FAILED', 'An element has an invalid value representation');
      if (LONG_VRS.has(vr)) {
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
      const group = tag >>> 16;
      const element = tag & 0xffff;
      // Private creators are LO (PS3.5 7.8.1) whether or not a dictionary knows them.
      const known = (group & 1) === 1 && element >= 0x10 && element <= 0xff ? 'LO' : dictionaryVr(tag);
      vr = known ?? (length === UNDEFINED_LENGTH ? 'SQ' : 'UN');
    }
    if (length === UNDEFINED_LENGTH) {
      if (tag === PIXEL_DATA_TAG) {
        const end = this.#fragmentsEnd(valueOffset, limit, syntax);
        return { element: { tag, vr: 'OB', value: { kind: 'bytes', bytes: this.#bytes.slice(valueOffset, end), encapsulated: true } }, end };
      }
      if (vr !== 'SQ' && vr !== 'UN') throw dicomError('DICOM_PARSE_FAILED', 'Undefined length on an element that cannot have one');
      const itemSyntax = vr === 'UN' ? IMPLICIT_LITTLE_ENDIAN_SYNTAX : syntax;
      const { items, end } = this.#items(valueOffset, limit, true, itemSyntax, depth);
      return { element: { tag, vr, value: { kind: 'sequence', items } }, end };
    }
    const end = valueOffset + length;
    if (end > limit)
      throw dicomError(limit >= this.#bytes.length ? 'DICOM_TRUNCATED' : 'DICOM_PARSE_FAILED', 'An element is longer than the data that holds it');
    if (vr === 'SQ') {
      const { items } = this.#items(valueOffset, end, false, syntax, depth);
      return { element: { tag, vr, value: { kind: 'sequence', items } }, end };
    }
    let textVr = vr;
    if (vr === 'UN' && syntax.littleEndian) {
      // A public attribute sent as UN (e.g. relayed through an implicit-VR hop): read it with its dictionary VR
      // so the profile's text actions apply; it is written back with that VR.
      const known = dictionaryVr(tag);
      if (known !== undefined && TEXT_VRS.has(known)) textVr = known;
    }
    if (TEXT_VRS.has(textVr)) return { element: { tag, vr: textVr, value: { kind: 'text', text: latin1String(this.#bytes.subarray(valueOffset, end)) } }, end };
    return { element: { tag, vr, value: { kind: 'bytes', bytes: this.#bytes.subarray(valueOffset, end) } }, end };
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

function writeElement(sink: ByteSink, e: DeidElement, syntax: ElementSyntax): void {
  const v = e.value;
  const le = syntax.littleEndian;
  if (v.kind === 'text') {
    const bytes = encodeText(v.text, e.vr);
    writeHeader(sink, e.tag, e.vr, bytes.length, syntax);
    sink.bytes(bytes);
    return;
  }
  if (v.kind === 'bytes') {
    if (v.encapsulated === true) {
      writeHeader(sink, e.tag, 'OB', UNDEFINED_LENGTH, syntax);
      sink.bytes(v.bytes);
      return;
    }
    const bytes = v.bytes.length % 2 === 1 ? Uint8Array.from([...v.bytes, 0]) : v.bytes;
    writeHeader(sink, e.tag, e.vr, bytes.length, syntax);
    sink.bytes(bytes);
    return;
  }
  if (e.vr === 'UN') {
    // PS3.5 6.2.2: a sequence of unknown VR keeps undefined length and Implicit VR Little Endian items.
    writeHeader(sink, e.tag, 'UN', UNDEFINED_LENGTH, syntax);
    for (const item of v.items) writeItem(sink, item, IMPLICIT_LITTLE_ENDIAN_SYNTAX);
    sink.u16(0xfffe, true);
    sink.u16(0xe0dd, true);
    sink.u32(0, true);
    return;
  }
  const at = writeHeader(sink, e.tag, 'SQ', 0, syntax);
  const start = sink.length;
  for (const item of v.items) writeItem(sink, item, syntax);
  sink.patchU32(at, sink.length - start, le);
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
