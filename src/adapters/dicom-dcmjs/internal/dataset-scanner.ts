/**
 * A structural walk of a DICOM dataset (PS3.5 Section 7) that runs before any library sees the bytes.
 *
 * dcmjs trusts what a header says: it drops the Basic Offset Table, copies every nested item (quadratic in
 * the nesting depth), pre-allocates arrays from declared lengths, and finds the end of an undefined-length
 * item by scanning for FFFE,E00D two bytes at a time. This walker checks every length against the bytes that
 * are actually there, bounds the nesting depth and the fragment count, follows undefined lengths by the
 * Standard's rules, and records where things are. It allocates only what it records: offsets of top-level
 * elements, of the items of the few sequences the caller keeps, and of Pixel Data fragments.
 */
import { isPlatformError } from '../../../domain/errors.js';
import { dicomError } from './dicom-error.js';

export interface ElementSyntax {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}

/** PS3.5 6.2.2: an undefined-length UN value is a sequence encoded in Implicit VR Little Endian. */
export const IMPLICIT_LITTLE_ENDIAN_SYNTAX: ElementSyntax = Object.freeze({ explicitVR: false, littleEndian: true });

export interface Fragment {
  /** Offset of the item tag (FFFE,E000): Basic Offset Table entries count from the first one after the table. */
  readonly itemOffset: number;
  readonly valueOffset: number;
  readonly length: number;
}

export interface ScannedElement {
  readonly tag: number;
  /** The explicit VR, or in implicit VR the dictionary's ('UN' when unknown). */
  readonly vr: string;
  readonly syntax: ElementSyntax;
  /** Offset of the element's tag. */
  readonly start: number;
  readonly valueOffset: number;
  /** Bytes of value; for an undefined length, the bytes before the closing delimiter. */
  readonly valueLength: number;
  readonly undefinedLength: boolean;
  /** Offset just past the element, delimiter included. */
  readonly end: number;
  /** Items of a sequence listed in `keepSequences`. */
  readonly items?: readonly ScannedDataset[];
  /** Encapsulated Pixel Data at the top level: the Basic Offset Table item first, then the fragments. */
  readonly fragments?: readonly Fragment[];
}

export type ScannedDataset = ReadonlyMap<number, ScannedElement>;

export interface ScanOptions {
  readonly syntax: ElementSyntax;
  /** Sequences whose items are recorded; every other sequence is checked and skipped. */
  readonly keepSequences: ReadonlySet<number>;
  /** The data dictionary's VR of a tag, needed in implicit VR to recognise sequences. */
  readonly dictionaryVr: (tag: number) => string | undefined;
  readonly maxSequenceDepth: number;
  readonly maxFragments: number;
  /** Stop after this top-level element (Pixel Data): what follows is signatures or padding, sometimes junk. */
  readonly stopAfterTag?: number;
}

export const PIXEL_DATA_TAG = 0x7fe00010;
const ITEM_TAG = 0xfffee000;
const ITEM_DELIMITATION_TAG = 0xfffee00d;
const SEQUENCE_DELIMITATION_TAG = 0xfffee0dd;
const UNDEFINED_LENGTH = 0xffffffff;

/** PS3.5 Table 7.1-1: VRs with a 2-byte reserved field and a 32-bit length in explicit VR. */
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const SHORT_VRS = new Set(['AE', 'AS', 'AT', 'CS', 'DA', 'DS', 'DT', 'FD', 'FL', 'IS', 'LO', 'LT', 'PN', 'SH', 'SL', 'SS', 'ST', 'TM', 'UI', 'UL', 'US']);

export function isKnownVr(vr: string): boolean {
  return LONG_VRS.has(vr) || SHORT_VRS.has(vr);
}

/** Reads the two VR characters at `offset` (ASCII) without decoding anything else. */
export function readVr(bytes: Uint8Array, offset: number): string {
  return String.fromCharCode(bytes[offset] ?? 0, bytes[offset + 1] ?? 0);
}

export function formatTag(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(8, '0');
}

export function scanDataset(bytes: Uint8Array, options: ScanOptions): ScannedDataset {
  return new DatasetScanner(bytes, options).scanTopLevel();
}

interface Header {
  readonly tag: number;
  readonly vr: string;
  readonly length: number;
  readonly valueOffset: number;
}

class DatasetScanner {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #options: ScanOptions;

  constructor(bytes: Uint8Array, options: ScanOptions) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#options = options;
  }

  scanTopLevel(): ScannedDataset {
    const elements = new Map<number, ScannedElement>();
    this.#scanElements(0, this.#bytes.length, this.#options.syntax, 0, elements, false);
    return elements;
  }

  /**
   * Scans elements from `start` up to `limit`. Inside an undefined-length item (`inUndefinedItem`), stops at
   * the Item Delimitation Item and returns the offset after it. Records into `into` when given.
   */
  #scanElements(
    start: number,
    limit: number,
    syntax: ElementSyntax,
    depth: number,
    into: Map<number, ScannedElement> | undefined,
    inUndefinedItem: boolean,
  ): number {
    let pos = start;
    while (pos < limit) {
      const tag = this.#tagAt(pos, limit, syntax);
      if (tag === ITEM_DELIMITATION_TAG && inUndefinedItem) {
        this.#need(pos, 8, limit);
        return pos + 8;
      }
      if (tag >>> 16 === 0xfffe) throw dicomError('DICOM_PARSE_FAILED', 'Unexpected item or delimiter tag in a dataset');
      const header = this.#readHeader(pos, limit, syntax);
      const element = this.#scanValue(pos, header, limit, syntax, depth, into !== undefined);
      if (into !== undefined && !into.has(tag)) into.set(tag, element);
      pos = element.end;
      if (depth === 0 && tag === this.#options.stopAfterTag) return pos;
    }
    if (inUndefinedItem) throw this.#endReached(limit, 'An undefined-length item has no delimiter');
    return pos;
  }

  #scanValue(start: number, header: Header, limit: number, syntax: ElementSyntax, depth: number, record: boolean): ScannedElement {
    const { tag, vr, length, valueOffset } = header;
    const base = { tag, vr, syntax, start, valueOffset };
    if (length === UNDEFINED_LENGTH) {
      if (tag === PIXEL_DATA_TAG) {
        const { fragments, end, valueEnd } = this.#scanFragments(valueOffset, limit, syntax, depth === 0);
        const element = { ...base, valueLength: valueEnd - valueOffset, undefinedLength: true, end };
        return depth === 0 ? { ...element, fragments } : element;
      }
      if (vr !== 'SQ' && vr !== 'UN') throw dicomError('DICOM_PARSE_FAILED', 'Undefined length on an element that cannot have one');
      const itemSyntax = vr === 'UN' ? IMPLICIT_LITTLE_ENDIAN_SYNTAX : syntax;
      const sequence = this.#scanItems(tag, valueOffset, limit, true, itemSyntax, depth, record);
      return {
        ...base,
        valueLength: sequence.valueEnd - valueOffset,
        undefinedLength: true,
        end: sequence.end,
        ...(sequence.items ? { items: sequence.items } : {}),
      };
    }
    const end = valueOffset + length;
    if (end > limit) throw this.#endReached(limit, 'An element is longer than the data that holds it');
    if (vr === 'SQ' && length > 0) {
      const sequence = this.#scanItems(tag, valueOffset, end, false, syntax, depth, record);
      return { ...base, valueLength: length, undefinedLength: false, end, ...(sequence.items ? { items: sequence.items } : {}) };
    }
    if (vr === 'UN' && length > 0 && record && this.#options.keepSequences.has(tag) && this.#options.dictionaryVr(tag) === 'SQ') {
      // A kept sequence sent as UN (PS3.5 6.2.2): Implicit VR Little Endian items. If they are not items after
      // all, the element is a leaf the reader ignores, as it would ignore an absent sequence.
      const items = this.#unknownVrItems(tag, valueOffset, end, depth);
      return { ...base, valueLength: length, undefinedLength: false, end, ...(items ? { items } : {}) };
    }
    return { ...base, valueLength: length, undefinedLength: false, end };
  }

  #unknownVrItems(tag: number, start: number, end: number, depth: number): ScannedDataset[] | undefined {
    try {
      return this.#scanItems(tag, start, end, false, IMPLICIT_LITTLE_ENDIAN_SYNTAX, depth, true).items;
    } catch (error) {
      if (isPlatformError(error) && (error.code === 'DICOM_PARSE_FAILED' || error.code === 'DICOM_TRUNCATED')) return undefined;
      throw error;
    }
  }

  #scanItems(
    tag: number,
    start: number,
    limit: number,
    undefinedLength: boolean,
    syntax: ElementSyntax,
    depth: number,
    record: boolean,
  ): { items?: ScannedDataset[]; end: number; valueEnd: number } {
    if (depth + 1 > this.#options.maxSequenceDepth) {
      throw dicomError('DICOM_LIMIT_EXCEEDED', 'Sequences are nested deeper than the reader allows', { maxSequenceDepth: this.#options.maxSequenceDepth });
    }
    const keep = record && this.#options.keepSequences.has(tag);
    const items: ScannedDataset[] | undefined = keep ? [] : undefined;
    let pos = start;
    while (pos < limit || undefinedLength) {
      const itemTag = this.#tagAt(pos, limit, syntax);
      if (itemTag === SEQUENCE_DELIMITATION_TAG) {
        if (!undefinedLength) throw dicomError('DICOM_PARSE_FAILED', 'Sequence delimiter inside a defined-length sequence');
        this.#need(pos, 8, limit);
        return { ...(items ? { items } : {}), end: pos + 8, valueEnd: pos };
      }
      if (itemTag !== ITEM_TAG) throw dicomError('DICOM_PARSE_FAILED', 'A sequence holds something other than items');
      this.#need(pos, 8, limit);
      const itemLength = this.#u32(pos + 4, syntax.littleEndian);
      const into = items ? new Map<number, ScannedElement>() : undefined;
      if (itemLength === UNDEFINED_LENGTH) {
        pos = this.#scanElements(pos + 8, limit, syntax, depth + 1, into, true);
      } else {
        const itemEnd = pos + 8 + itemLength;
        if (itemEnd > limit) throw this.#endReached(limit, 'An item is longer than the sequence that holds it');
        this.#scanElements(pos + 8, itemEnd, syntax, depth + 1, into, false);
        pos = itemEnd;
      }
      if (items && into) items.push(into);
    }
    return { ...(items ? { items } : {}), end: pos, valueEnd: pos };
  }

  /** PS3.5 A.4: items of defined length, the first being the Basic Offset Table, closed by FFFE,E0DD. */
  #scanFragments(start: number, limit: number, syntax: ElementSyntax, record: boolean): { fragments: Fragment[]; end: number; valueEnd: number } {
    const fragments: Fragment[] = [];
    let pos = start;
    for (;;) {
      // A file that ends cleanly after the last fragment, without the delimiter, is still readable.
      if (pos === limit && fragments.length > 0 && limit === this.#bytes.length) return { fragments, end: pos, valueEnd: pos };
      this.#need(pos, 8, limit);
      const tag = this.#tagAt(pos, limit, syntax);
      const length = this.#u32(pos + 4, syntax.littleEndian);
      if (tag === SEQUENCE_DELIMITATION_TAG) return { fragments, end: pos + 8, valueEnd: pos };
      if (tag !== ITEM_TAG || length === UNDEFINED_LENGTH)
        throw dicomError('DICOM_PARSE_FAILED', 'Encapsulated Pixel Data holds something other than fragments');
      if (pos + 8 + length > limit) throw this.#endReached(limit, 'A Pixel Data fragment is longer than the data that holds it');
      if (record) {
        if (fragments.length >= this.#options.maxFragments) {
          throw dicomError('DICOM_LIMIT_EXCEEDED', 'Pixel Data has more fragments than the reader allows', { maxFragments: this.#options.maxFragments });
        }
        fragments.push({ itemOffset: pos, valueOffset: pos + 8, length });
      }
      pos += 8 + length;
    }
  }

  #readHeader(pos: number, limit: number, syntax: ElementSyntax): Header {
    this.#need(pos, 8, limit);
    const tag = this.#tagAt(pos, limit, syntax);
    if (!syntax.explicitVR) {
      const length = this.#u32(pos + 4, true);
      const known = this.#options.dictionaryVr(tag);
      const vr = known === undefined ? (length === UNDEFINED_LENGTH ? 'SQ' : 'UN') : known;
      return { tag, vr, length, valueOffset: pos + 8 };
    }
    const vr = readVr(this.#bytes, pos + 4);
    if (LONG_VRS.has(vr)) {
      this.#need(pos, 12, limit);
      return { tag, vr, length: this.#u32(pos + 8, syntax.littleEndian), valueOffset: pos + 12 };
    }
    if (SHORT_VRS.has(vr)) return { tag, vr, length: this.#u16(pos + 6, syntax.littleEndian), valueOffset: pos + 8 };
    throw dicomError('DICOM_PARSE_FAILED', 'An element has an invalid value representation');
  }

  #tagAt(pos: number, limit: number, syntax: ElementSyntax): number {
    this.#need(pos, 4, limit);
    const group = this.#u16(pos, syntax.littleEndian);
    const element = this.#u16(pos + 2, syntax.littleEndian);
    return ((group << 16) | element) >>> 0;
  }

  #need(pos: number, count: number, limit: number): void {
    if (pos + count > limit) throw this.#endReached(limit, 'The data ends inside an element header');
  }

  /** Running past the end of the file is truncation; running past an enclosing length is a malformed file. */
  #endReached(limit: number, message: string): Error {
    return limit >= this.#bytes.length ? dicomError('DICOM_TRUNCATED', message) : dicomError('DICOM_PARSE_FAILED', message);
  }

  #u16(offset: number, littleEndian: boolean): number {
    return this.#view.getUint16(offset, littleEndian);
  }

  #u32(offset: number, littleEndian: boolean): number {
    return this.#view.getUint32(offset, littleEndian);
  }
}
