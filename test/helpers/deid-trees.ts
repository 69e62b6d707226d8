/**
 * Test support for de-identification properties and fuzzing: datasets as trees of the domain's DeidElements
 * (built in code, or read from a file with the codec), identifiers planted at random depths under random
 * parents, and an encoder that writes such a tree in any native transfer syntax with any element re-encoded
 * with VR UN as PS3.5 6.2.2 describes (Implicit VR Little Endian value, sequences as implicit items, possibly
 * of undefined length). The encoder is written independently of the codec's writer, so that the two do not
 * share a mistake.
 */
import fc from 'fast-check';
import { CONFIDENTIALITY_PROFILE_ATTRIBUTES } from '../../src/domain/deidentification/confidentiality-profile-table.js';
import type { DeidDataset, DeidElement } from '../../src/domain/deidentification/deid-dataset.js';
import type { ProfileOption } from '../../src/domain/deidentification/profile-attribute.js';
import { findProfileAttribute, isPrivateTag, resolveAction, resolveBasic } from '../../src/domain/deidentification/resolve-action.js';
import { dictionaryVr } from '../../src/adapters/dicom-dcmjs/internal/dictionary.js';

export interface Syntax {
  readonly explicitVR: boolean;
  readonly littleEndian: boolean;
}

export const IMPLICIT_LE: Syntax = { explicitVR: false, littleEndian: true };
const PIXEL_DATA = 0x7fe00010;
const UNDEFINED = 0xffffffff;
const LONG_VRS = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
/** The width of the words a change of byte order reverses (an AT value is two 16-bit words). */
const WORD: Readonly<Record<string, number>> = { US: 2, SS: 2, OW: 2, AT: 2, UL: 4, SL: 4, FL: 4, OL: 4, OF: 4, FD: 8, SV: 8, UV: 8, OD: 8, OV: 8 };

export interface Recoding {
  /** Write this element with VR UN (asked only in explicit syntaxes, never for Pixel Data). */
  readonly asUn: (e: DeidElement) => boolean;
  /** Write this sequence with undefined length (and its items too). */
  readonly undefinedLength: (e: DeidElement) => boolean;
  /** The value length to declare (fuzzing: a lie); the real one when absent. */
  readonly declaredLength?: (e: DeidElement, real: number) => number;
}

/** A deterministic choice per call, from a seed (mulberry32), so a failing fast-check run replays. */
export function seededChoices(seed: number, unProbability: number, undefinedProbability = 0.5): Recoding {
  const next = seededRandom(seed);
  return { asUn: () => next() < unProbability, undefinedLength: () => next() < undefinedProbability };
}

/** mulberry32: numbers in [0, 1) from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function u16(value: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(2);
  new DataView(out.buffer).setUint16(0, value, littleEndian);
  return out;
}

function u32(value: number, littleEndian: boolean): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, littleEndian);
  return out;
}

function swap(bytes: Uint8Array, word: number): Uint8Array {
  if (word <= 1) return bytes;
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + word <= bytes.length; i += word) for (let k = 0; k < word; k++) out[i + k] = bytes[i + word - 1 - k] ?? 0;
  return out;
}

function header(tag: number, vr: string, length: number, syntax: Syntax): Uint8Array {
  const le = syntax.littleEndian;
  const t = concat([u16(tag >>> 16, le), u16(tag & 0xffff, le)]);
  if (!syntax.explicitVR) return concat([t, u32(length, le)]);
  const v = Uint8Array.of(vr.charCodeAt(0), vr.charCodeAt(1));
  if (LONG_VRS.has(vr)) return concat([t, v, new Uint8Array(2), u32(length, le)]);
  return concat([t, v, u16(length, le)]);
}

function textBytes(text: string, vr: string): Uint8Array {
  const padded = text.length % 2 === 1 ? text + (vr === 'UI' ? '\0' : ' ') : text;
  return Uint8Array.from(padded, (c) => c.charCodeAt(0) & 0xff);
}

/**
 * Writes `dataset` in `syntax`. Binary values are held in the byte order `heldLittleEndian` says (as the codec
 * reads them: the file's), except values held as UN, which are little endian by definition.
 */
export function encodeTree(dataset: DeidDataset, syntax: Syntax, heldLittleEndian: boolean, choice: Recoding): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of dataset) parts.push(encodeElement(e, syntax, heldLittleEndian, choice));
  return concat(parts);
}

function encodeItems(items: readonly DeidDataset[], syntax: Syntax, held: boolean, choice: Recoding, undefinedLength: boolean): Uint8Array {
  const le = syntax.littleEndian;
  const parts: Uint8Array[] = [];
  for (const item of items) {
    const body = encodeTree(item, syntax, held, choice);
    parts.push(u16(0xfffe, le), u16(0xe000, le), u32(undefinedLength ? UNDEFINED : body.length, le), body);
    if (undefinedLength) parts.push(u16(0xfffe, le), u16(0xe00d, le), u32(0, le));
  }
  if (undefinedLength) parts.push(u16(0xfffe, le), u16(0xe0dd, le), u32(0, le));
  return concat(parts);
}

function encodeElement(e: DeidElement, syntax: Syntax, held: boolean, choice: Recoding): Uint8Array {
  const v = e.value;
  if (v.kind === 'uninspectable') return new Uint8Array(0);
  if (v.kind === 'bytes' && v.encapsulated === true) return concat([header(e.tag, 'OB', UNDEFINED, syntax), v.bytes]);
  const un = syntax.explicitVR && e.tag !== PIXEL_DATA && choice.asUn(e);
  if (v.kind === 'sequence') {
    const undefinedLength = choice.undefinedLength(e);
    // PS3.5 6.2.2: sent as UN, the items are Implicit VR Little Endian whatever the syntax around them.
    const itemSyntax = un ? IMPLICIT_LE : syntax;
    const body = encodeItems(v.items, itemSyntax, held, choice, undefinedLength);
    const length = undefinedLength ? UNDEFINED : body.length;
    return concat([header(e.tag, un ? 'UN' : 'SQ', choice.declaredLength?.(e, length) ?? length, syntax), body]);
  }
  let bytes: Uint8Array;
  if (v.kind === 'text') bytes = textBytes(v.text, e.vr);
  else {
    const heldLe = e.vr === 'UN' ? true : held;
    const wantLe = un || e.vr === 'UN' ? true : syntax.littleEndian;
    bytes = heldLe === wantLe ? v.bytes : swap(v.bytes, WORD[e.vr] ?? 1);
    if (bytes.length % 2 === 1) bytes = concat([bytes, new Uint8Array(1)]);
  }
  let vr = un ? 'UN' : e.vr;
  if (syntax.explicitVR && !LONG_VRS.has(vr) && bytes.length > 0xfffe) {
    // CP-1066: too long for a 16-bit length, written as UN (little endian).
    if (v.kind === 'bytes' && !syntax.littleEndian) bytes = swap(bytes, WORD[e.vr] ?? 1);
    vr = 'UN';
  }
  const declared = choice.declaredLength?.(e, bytes.length) ?? bytes.length;
  // A lie too big for a 16-bit length field is cut to 16 bits, as a writer with that bug would.
  return concat([header(e.tag, vr, syntax.explicitVR && !LONG_VRS.has(vr) ? declared & 0xffff : declared, syntax), bytes]);
}

// ---- Planted identifiers ----------------------------------------------------------------------------------

const PLANTABLE_VRS = new Set(['LO', 'SH', 'PN', 'LT', 'ST', 'UT', 'DA', 'DT', 'TM', 'UI', 'CS', 'AE']);

/** Table E.1-1 attributes with a string VR whose Basic Profile action removes or replaces the value. */
export const PLANTABLE = CONFIDENTIALITY_PROFILE_ATTRIBUTES.filter((a) => /^[0-9a-f]{8}$/.test(a.tag) && !a.tag.startsWith('0002') && !a.tag.startsWith('0000'))
  .filter((a) => ['X', 'Z', 'D', 'U'].includes(resolveBasic(a.basic)))
  .map((a) => ({ tag: parseInt(a.tag, 16), vr: dictionaryVr(parseInt(a.tag, 16)) ?? '' }))
  .filter((a) => PLANTABLE_VRS.has(a.vr));

/**
 * Sequences to plant under: kept by the table (not listed: Referenced RT Plan, Referenced Series, Referenced
 * Instance, Referenced SOP, Derivation Image, Shared Functional Groups, CTDI Phantom Type Code), U* (Referenced
 * Image, Source Image), D (Content), X (Request Attributes), X/Z (Referenced Study, Procedure Step Performed
 * Procedure… ), a public tag the dictionary does not know, and a private sequence.
 */
export const PARENTS: readonly number[] = [
  0x300c0002, 0x00081115, 0x0008114a, 0x00081199, 0x00089215, 0x52009229, 0x00189346, 0x00081140, 0x00082112, 0x0040a730, 0x00400275, 0x00081110, 0x00400555,
  0x00401234, 0x00091002,
];
/** Public tags the data dictionary does not know. */
export const UNKNOWN_PUBLIC_TAGS: readonly number[] = [0x00181234, 0x00200099, 0x00089999];
const PRIVATE_CREATOR = 0x00090010;
const PRIVATE_VALUE = 0x00091001;

export type PlantedSpec =
  | { readonly kind: 'attribute'; readonly index: number }
  | { readonly kind: 'unknown'; readonly tag: number }
  | { readonly kind: 'private' }
  | { readonly kind: 'sequence'; readonly parent: number; readonly items: readonly (readonly PlantedSpec[])[] };

const leafSpec: fc.Arbitrary<PlantedSpec> = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 0, max: PLANTABLE.length - 1 }).map((index) => ({ kind: 'attribute' as const, index })) },
  { weight: 1, arbitrary: fc.constantFrom(...UNKNOWN_PUBLIC_TAGS).map((tag) => ({ kind: 'unknown' as const, tag })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'private' as const }) },
);

const { sequence: sequenceSpec } = fc.letrec<{ node: PlantedSpec; sequence: PlantedSpec }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthSize: 'small', withCrossShrink: true }, leafSpec, tie('sequence')),
  sequence: fc.record({
    kind: fc.constant('sequence' as const),
    parent: fc.constantFrom(...PARENTS),
    items: fc.array(fc.array(tie('node'), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 }),
  }),
}));

/** One to four planted subtrees for the top level of a dataset. */
export const plantedSpecs: fc.Arbitrary<readonly PlantedSpec[]> = fc.array(sequenceSpec, { minLength: 1, maxLength: 4 });

export interface Planted {
  readonly tag: number;
  readonly value: string;
}

/** A date in the 20th century, one per n below 33,600. */
function plantedDate(n: number): string {
  const pad = (x: number): string => String(x).padStart(2, '0');
  return `19${pad(Math.floor(n / 336) % 100)}${pad(1 + (Math.floor(n / 28) % 12))}${pad(1 + (n % 28))}`;
}

/** A value of the VR's shape that occurs nowhere else (each call a new number). */
export function plantedValue(vr: string, n: number): string {
  const id = String(100000 + n);
  switch (vr) {
    case 'DA':
      return plantedDate(n);
    case 'DT':
      return `${plantedDate(n)}123456`;
    case 'TM':
      return `1${n % 10}${String(10 + (n % 50)).padStart(2, '0')}${String(10 + (Math.floor(n / 50) % 50)).padStart(2, '0')}.${id}`;
    case 'UI':
      return `1.2.826.0.1.3680043.10.543.9.${id}`;
    case 'CS':
    case 'AE':
      return `QZ${id}`;
    case 'PN':
      return `QZ${id}^SYNTHETIC`;
    case 'SH':
      return `QZ${id} SYN`;
    default:
      return `QZ${id} SYNTHETIC`;
  }
}

const text = (tag: number, vr: string, value: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: value } });

/** Turns specs into elements (one item's worth), recording every planted value; `counter` numbers the values. */
export function materialise(specs: readonly PlantedSpec[], planted: Planted[], counter: { n: number }): DeidElement[] {
  const out = new Map<number, DeidElement>();
  const add = (e: DeidElement, value?: string): void => {
    if (out.has(e.tag)) return;
    out.set(e.tag, e);
    if (value !== undefined) planted.push({ tag: e.tag, value });
  };
  for (const spec of specs) {
    const n = counter.n++;
    switch (spec.kind) {
      case 'attribute': {
        const a = PLANTABLE[spec.index];
        if (a === undefined) break;
        const value = plantedValue(a.vr, n);
        add(text(a.tag, a.vr, value), value);
        break;
      }
      case 'unknown': {
        // Sent as UN (or in Implicit VR): nothing says what these bytes are.
        const value = `QZ${100000 + n} UNKNOWN`;
        add({ tag: spec.tag, vr: 'UN', value: { kind: 'bytes', bytes: textBytes(value, 'UN') } }, value);
        break;
      }
      case 'private': {
        const value = `QZ${100000 + n} PRIVATE`;
        add(text(PRIVATE_CREATOR, 'LO', 'QZVENDOR'));
        add(text(PRIVATE_VALUE, 'LO', value), value);
        break;
      }
      case 'sequence': {
        const items = spec.items.map((item) => materialise(item, planted, counter));
        if (isPrivateTag(spec.parent)) add(text(PRIVATE_CREATOR, 'LO', 'QZVENDOR'));
        add({ tag: spec.parent, vr: 'SQ', value: { kind: 'sequence', items } });
        break;
      }
    }
  }
  return [...out.values()].sort((a, b) => a.tag - b.tag);
}

/** Merges planted top-level elements into a dataset (the dataset's own element wins a tag both have). */
export function withPlanted(dataset: DeidDataset, plantedTop: readonly DeidElement[]): DeidElement[] {
  const tags = new Set(dataset.map((e) => e.tag));
  return [...dataset, ...plantedTop.filter((e) => !tags.has(e.tag))].sort((a, b) => a.tag - b.tag);
}

/** Whether a planted value must be gone after de-identification with these options. */
export function mustBeRemoved(tag: number, options: ReadonlySet<ProfileOption>): boolean {
  if (isPrivateTag(tag) || UNKNOWN_PUBLIC_TAGS.includes(tag)) return true;
  const attribute = findProfileAttribute(tag);
  if (attribute === undefined) return false;
  return ['X', 'Z', 'D', 'U', 'U*'].includes(resolveAction(attribute, options));
}

/** Elements at any depth, with the tags of the sequences above them. */
export function* walk(dataset: DeidDataset, parents: readonly number[] = []): Generator<{ element: DeidElement; parents: readonly number[] }> {
  for (const element of dataset) {
    yield { element, parents };
    if (element.value.kind === 'sequence') for (const item of element.value.items) yield* walk(item, [...parents, element.tag]);
  }
}
