/**
 * Value decoding through dcmjs, one leaf element at a time. The scanner has already checked the structure and
 * located the elements, so dcmjs only ever sees the few short elements the reader needs (character set,
 * identifiers, Image Pixel and VOI/Modality LUT attributes), never a sequence, a private element or the
 * pixel data. An element dcmjs cannot decode is treated as absent; the caller decides whether that matters.
 */
import { DicomMessage, ReadBufferStream } from './libraries.js';
import { formatTag, type ScannedDataset, type ScannedElement } from './dataset-scanner.js';
import { dcmjsSyntaxOf } from './transfer-syntax.js';

export type DecodedValues = ReadonlyMap<number, readonly unknown[]>;

const READ_OPTIONS = { untilTag: null, includeUntilTagValue: false } as const;

/** Decodes the elements of `dataset` whose tags are listed, as dcmjs `Value` arrays keyed by tag. */
export function decodeElements(bytes: Uint8Array, dataset: ScannedDataset, tags: readonly number[]): DecodedValues {
  const elements = [...new Set(tags)]
    .sort((a, b) => a - b)
    .map((tag) => dataset.get(tag))
    .filter((element): element is ScannedElement => element !== undefined && element.items === undefined && element.fragments === undefined);
  const decoded = new Map<number, readonly unknown[]>();
  if (elements.length === 0) return decoded;

  // One pass over all of them (the character set first, so dcmjs decodes the strings after it), then each
  // element alone for any that the pass lost: with ignoreErrors dcmjs stops at the first bad element.
  collect(readElements(bytes, elements, true), decoded);
  for (const element of elements) {
    if (decoded.has(element.tag)) continue;
    try {
      collect(readElements(bytes, [element], false), decoded);
    } catch {
      // Undecodable: left absent.
    }
  }
  return decoded;
}

interface DcmjsValues {
  readonly vr?: unknown;
  readonly Value?: unknown[];
  readonly _rawValue?: unknown;
}

function readElements(bytes: Uint8Array, elements: readonly ScannedElement[], ignoreErrors: boolean): Record<string, DcmjsValues> {
  const first = elements[0];
  if (first === undefined) return {};
  const total = elements.reduce((sum, element) => sum + (element.end - element.start), 0);
  const buffer = new ArrayBuffer(total);
  const target = new Uint8Array(buffer);
  let offset = 0;
  for (const element of elements) {
    target.set(bytes.subarray(element.start, element.end), offset);
    offset += element.end - element.start;
  }
  const stream = new ReadBufferStream(buffer, first.syntax.littleEndian);
  return DicomMessage._read(stream, dcmjsSyntaxOf(first.syntax), { ...READ_OPTIONS, ignoreErrors });
}

/**
 * dcmjs formats DS and IS by deleting every character that is not part of a number ("1a2" becomes 12, "abc"
 * becomes null); their raw text is kept instead and parsed strictly by `firstNumber`.
 */
function collect(result: Record<string, DcmjsValues>, into: Map<number, readonly unknown[]>): void {
  for (const [key, element] of Object.entries(result)) {
    const tag = Number.parseInt(key, 16);
    if (!Number.isInteger(tag) || formatTag(tag) !== key.toUpperCase() || into.has(tag)) continue;
    const numericString = element.vr === 'DS' || element.vr === 'IS';
    const raw = element._rawValue;
    if (numericString && Array.isArray(raw)) into.set(tag, raw as unknown[]);
    else into.set(tag, Array.isArray(element.Value) ? element.Value : []);
  }
}

/** True for a value that is absent in all but name: null or blank text. */
export function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.replace(/\0/g, '').trim() === '');
}

/** The first value as a finite number; numeric strings (a wrong VR) are accepted. */
export function firstNumber(values: readonly unknown[] | undefined): number | undefined {
  return toFiniteNumber(values?.[0]);
}

/** All values that are finite numbers, in order; `undefined` marks a value that is not. */
export function allNumbers(values: readonly unknown[] | undefined): (number | undefined)[] {
  return (values ?? []).map(toFiniteNumber);
}

export function firstString(values: readonly unknown[] | undefined): string | undefined {
  const value = values?.[0];
  if (typeof value !== 'string') return undefined;
  const trimmed = value.replace(/\0/g, '').trim();
  return trimmed === '' ? undefined : trimmed;
}

function toFiniteNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}
