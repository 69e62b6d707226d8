/**
 * Fuzzing the de-identifier (field findings I, item 2). Inputs: every sample in ../shared/data/dicom-samples
 * and files built in code, each with identifiers planted at random depths under random parents, rewritten in
 * another native syntax (Implicit VR LE, Explicit VR LE/BE, Deflated; encapsulated files keep theirs), with
 * random elements at any level sent as UN (PS3.5 6.2.2), sequences of random defined or undefined length,
 * sequences nested beyond the limit, declared lengths changed, bytes flipped, files cut short.
 *
 * Invariants, for every input: the de-identifier returns or throws within a time bound; what it throws is a
 * PlatformError with a DICOM_* or DEID_* code; what it returns parses again. And no planted identifier (nor an
 * original UID or person name of a sample) is in any output. When only the encoding changed, that holds for
 * every byte of the output. When bytes were corrupted (a changed length or a flipped byte can make a planted
 * value part of another element, as the file now says), a planted value may remain only inside an attribute
 * the profile keeps (a public one that Table E.1-1 does not list, or marks K or C); anywhere else is a leak.
 *
 * `npm test` runs a modest count with a fixed seed. A long run: `node scripts/fuzz-deid.mjs --runs 5000`
 * (VIGIL_FUZZ_RUNS, VIGIL_FUZZ_SEED; VIGIL_FUZZ_REPORT names a JSON file for the counts and timings).
 */
import fc from 'fast-check';
import { DEFAULT_INFLATE_LIMITS } from './internal/part10.js';
import { createHmac } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spyOnAllOutput } from '../../../test/helpers/output-spies.js';
import {
  IMPLICIT_LE,
  encodeTree,
  materialise,
  mustBeRemoved,
  plantedSpecs,
  seededRandom,
  walk,
  withPlanted,
  type Planted,
  type Recoding,
  type Syntax,
} from '../../../test/helpers/deid-trees.js';
import type { DeidDataset, DeidElement } from '../../domain/deidentification/deid-dataset.js';
import { findProfileAttribute, isPrivateTag, resolveBasic } from '../../domain/deidentification/resolve-action.js';
import { isPlatformError } from '../../domain/errors.js';
import { ElementDeidentifier } from './element-deidentifier.js';
import { parseForDeid } from './internal/deid-codec.js';
import { buildPart10, el, fragmentsValue, imageDataset, implicitItems, sampleBytes, unSequence, type ElementSpec } from './internal/test-builders.js';

const SEED = Number(process.env['VIGIL_FUZZ_SEED'] ?? 20261124);
const RUNS = Number(process.env['VIGIL_FUZZ_RUNS'] ?? 150);
const REPORT = process.env['VIGIL_FUZZ_REPORT'];
/** Per input. The largest sample (a 2 MB JPEG 2000 chest film) takes tens of milliseconds. */
const MAX_MS_PER_INPUT = 5000;

const sampleDir = resolve(process.env['VIGIL_SAMPLE_DATA'] ?? resolve(import.meta.dirname, '../../../../shared/data'), 'dicom-samples');
const digest = (purpose: string, value: string): Uint8Array => createHmac('sha256', 'fuzz-secret').update(`${purpose}\0${value}`).digest();
const deidentifier = new ElementDeidentifier();

const NATIVE_SYNTAXES: readonly (readonly [string, Syntax])[] = [
  ['1.2.840.10008.1.2', IMPLICIT_LE],
  ['1.2.840.10008.1.2.1', { explicitVR: true, littleEndian: true }],
  ['1.2.840.10008.1.2.2', { explicitVR: true, littleEndian: false }],
  ['1.2.840.10008.1.2.1.99', { explicitVR: true, littleEndian: true }],
];

interface Base {
  readonly name: string;
  readonly dataset: DeidDataset;
  readonly heldLittleEndian: boolean;
  /** Its own syntax: kept when Pixel Data is encapsulated. */
  readonly transferSyntaxUid: string;
  readonly encapsulated: boolean;
  /** Original identifiers the output must not hold: U-action UIDs and person names. */
  readonly originals: readonly Planted[];
}

function originalsOf(dataset: DeidDataset): Planted[] {
  const out: Planted[] = [];
  for (const { element } of walk(dataset)) {
    if (element.value.kind !== 'text' || isPrivateTag(element.tag)) continue;
    const attribute = findProfileAttribute(element.tag);
    const value = element.value.text.replace(/[\0 ]+$/, '').trim();
    if (attribute === undefined || value.length < 6) continue;
    const action = resolveBasic(attribute.basic);
    if ((element.vr === 'UI' && action === 'U') || (element.vr === 'PN' && ['X', 'Z', 'D'].includes(action))) out.push({ tag: element.tag, value });
  }
  return out;
}

async function baseOf(name: string, bytes: Uint8Array): Promise<Base> {
  const parsed = await parseForDeid(bytes, DEFAULT_INFLATE_LIMITS);
  return {
    name,
    dataset: parsed.dataset,
    heldLittleEndian: parsed.syntax.littleEndian,
    transferSyntaxUid: parsed.transferSyntaxUid,
    encapsulated: parsed.transferSyntax.encoding !== 'native',
    originals: originalsOf(parsed.dataset),
  };
}

/** Files built in code: an RT Dose whose plan reference is a UN sequence, an enhanced image, an RLE image. */
function builtCorpus(): Promise<Base[]> {
  const image = (extra: ElementSpec[], pixelData: ElementSpec, sopClassUid: string, modality: string): ElementSpec[] =>
    imageDataset({ rows: 2, columns: 2, bitsAllocated: 16, modality, pixelData, extra }).map((e) =>
      e.tag === 0x00080016 ? el(0x00080016, 'UI', sopClassUid) : e,
    );
  const native = el(0x7fe00010, 'OW', sampleBytes([1, 2, 3, 4], 16));
  const plan = unSequence(0x300c0002, [
    [el(0x00081070, 'PN', 'QZFUZZ^OPERATOR'), el(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.481.5'), el(0x00081155, 'UI', '1.2.826.0.1.3680043.10.543.66.1')],
  ]);
  const groups = el(0x52009229, 'SQ', [
    [el(0x00289145, 'UN', implicitItems([[el(0x00281052, 'DS', '-1024'), el(0x00281053, 'DS', '1')]]), { undefinedLength: false })],
  ]);
  const rle = el(0x7fe00010, 'OB', fragmentsValue([Uint8Array.of(1, 2, 3, 4)]), { undefinedLength: true });
  return Promise.all([
    baseOf(
      'built: RT Dose, UN plan sequence',
      buildPart10(image([plan], native, '1.2.840.10008.5.1.4.1.1.481.2', 'RTDOSE'), { transferSyntaxUid: '1.2.840.10008.1.2.1' }),
    ),
    baseOf(
      'built: enhanced CT, UN functional group',
      buildPart10(image([groups], native, '1.2.840.10008.5.1.4.1.1.2.1', 'CT'), { transferSyntaxUid: '1.2.840.10008.1.2.1' }),
    ),
    baseOf('built: RLE CT', buildPart10(image([], rle, '1.2.840.10008.5.1.4.1.1.2', 'CT'), { transferSyntaxUid: '1.2.840.10008.1.2.5' })),
  ]);
}

type Corruption =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly probability: number }
  | { readonly kind: 'flip'; readonly at: readonly (readonly [number, number])[] }
  | { readonly kind: 'truncate'; readonly at: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const corruption: fc.Arbitrary<Corruption> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('length' as const), probability: fc.constantFrom(0.01, 0.05, 0.2) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.array(fc.tuple(position, fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: position }) },
);

const caseArbitrary = fc.record({
  base: fc.nat(),
  planted: plantedSpecs,
  syntax: fc.nat({ max: NATIVE_SYNTAXES.length - 1 }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  unProbability: fc.constantFrom(0, 0.2, 0.5, 1),
  /** Sequences nested this deep around one planted value (the de-identifier refuses beyond 32). */
  deep: fc.option(fc.integer({ min: 2, max: 40 }), { freq: 5 }),
  corruption,
});

/** `depth` sequences, alternately SQ and UN by the recoding's choice, around one planted Operators' Name. */
function deepNest(depth: number, value: string): DeidElement {
  let inner: DeidElement = { tag: 0x00081070, vr: 'PN', value: { kind: 'text', text: value } };
  for (let i = 0; i < depth; i++) inner = { tag: 0x00081115, vr: 'SQ', value: { kind: 'sequence', items: [[inner]] } };
  return inner;
}

function lengthLies(random: () => number, probability: number): NonNullable<Recoding['declaredLength']> {
  const lies = [
    (n: number) => n + 2,
    (n: number) => Math.max(0, n - 2),
    (n: number) => n + 1,
    () => 0,
    () => 0xffffffff,
    () => 0x7ffffff0,
    (n: number) => n * 2 + 8,
  ];
  return (_e, real) => (random() < probability ? (lies[Math.floor(random() * lies.length)] ?? ((n: number) => n))(real) : real);
}

/** Where a planted value may remain after corruption: a public attribute the profile keeps. */
function isKeptContainer(e: DeidElement): boolean {
  if (isPrivateTag(e.tag)) return false;
  const attribute = findProfileAttribute(e.tag);
  return attribute === undefined || ['K', 'C'].includes(resolveBasic(attribute.basic));
}

function leafText(e: DeidElement): string {
  if (e.value.kind === 'text') return e.value.text;
  if (e.value.kind === 'bytes') return Buffer.from(e.value.bytes).toString('latin1');
  return '';
}

interface Stats {
  runs: number;
  deidentified: number;
  errors: Record<string, number>;
  corrupted: number;
  plantedChecked: number;
  survivingInKeptAttributes: number;
  totalMs: number;
  maxMs: number;
  maxMsInput: string;
}

describe('ElementDeidentifier under re-encoded, re-nested and corrupted input', () => {
  const corpus: Base[] = [];
  let printing: ReturnType<typeof spyOnAllOutput> | undefined;

  beforeAll(async () => {
    corpus.push(...(await builtCorpus()));
    if (existsSync(sampleDir)) {
      for (const name of readdirSync(sampleDir)
        .filter((n) => n.endsWith('.dcm'))
        .sort()) {
        corpus.push(await baseOf(name, new Uint8Array(readFileSync(resolve(sampleDir, name)))));
      }
    }
    printing = spyOnAllOutput();
  });

  afterAll(() => printing?.restore());

  it(`never crashes, hangs or leaks (seed ${SEED}, ${RUNS} runs)`, { timeout: Math.max(120_000, RUNS * 1_000) }, async () => {
    const stats: Stats = {
      runs: 0,
      deidentified: 0,
      errors: {},
      corrupted: 0,
      plantedChecked: 0,
      survivingInKeptAttributes: 0,
      totalMs: 0,
      maxMs: 0,
      maxMsInput: '',
    };
    await fc.assert(
      fc.asyncProperty(caseArbitrary, async (c) => {
        const base = corpus[c.base % corpus.length];
        if (base === undefined) throw new Error('empty corpus');
        const planted: Planted[] = [...base.originals];
        const counter = { n: 0 };
        const top = materialise(c.planted, planted, counter);
        if (c.deep !== null && !top.some((e) => e.tag === 0x00081115)) {
          const value = `QZ${900000 + counter.n++}^DEEP`;
          top.push(deepNest(c.deep, value));
          planted.push({ tag: 0x00081070, value });
        }
        const dataset = withPlanted(
          base.dataset,
          top.sort((a, b) => a.tag - b.tag),
        );
        const [uid, syntax] = (base.encapsulated ? undefined : NATIVE_SYNTAXES[c.syntax]) ?? [base.transferSyntaxUid, { explicitVR: true, littleEndian: true }];
        const random = seededRandom(c.seed);
        const recoding: Recoding = {
          asUn: () => random() < c.unProbability,
          undefinedLength: () => random() < 0.5,
          ...(c.corruption.kind === 'length' ? { declaredLength: lengthLies(random, c.corruption.probability) } : {}),
        };
        let bytes = buildPart10(encodeTree(dataset, syntax, base.heldLittleEndian, recoding), { transferSyntaxUid: uid });
        if (c.corruption.kind === 'flip') {
          bytes = bytes.slice();
          for (const [at, value] of c.corruption.at) bytes[Math.floor(at * bytes.length)] = value;
        } else if (c.corruption.kind === 'truncate') bytes = bytes.slice(0, Math.floor(c.corruption.at * bytes.length));
        const corrupted = c.corruption.kind !== 'none';

        const started = performance.now();
        let outcome;
        try {
          outcome = await deidentifier.deidentify(bytes, { profile: { name: 'basic', options: new Set() }, digest, pixelRules: [], headersOnly: true });
        } catch (error) {
          if (!isPlatformError(error) || !/^(DICOM|DEID)_/.test(error.code)) throw error;
          stats.errors[error.code] = (stats.errors[error.code] ?? 0) + 1;
        }
        const ms = performance.now() - started;
        stats.runs++;
        stats.totalMs += ms;
        if (ms > stats.maxMs) [stats.maxMs, stats.maxMsInput] = [ms, base.name];
        if (corrupted) stats.corrupted++;
        expect(ms, base.name).toBeLessThan(MAX_MS_PER_INPUT);
        if (outcome === undefined) return;
        expect(outcome.status).toBe('deidentified');
        if (outcome.status !== 'deidentified') return;
        stats.deidentified++;

        const out = await parseForDeid(outcome.bytes, DEFAULT_INFLATE_LIMITS); // the output parses
        const text = Buffer.from(outcome.bytes).toString('latin1');
        const leaves = corrupted ? [...walk(out.dataset)].map(({ element }) => element) : [];
        for (const p of planted) {
          if (!mustBeRemoved(p.tag, new Set())) continue;
          stats.plantedChecked++;
          if (!text.includes(p.value)) continue;
          // Only corruption can make a planted value part of another attribute, and only a kept one may hold it.
          const holders = leaves.filter((e) => leafText(e).includes(p.value));
          expect(corrupted && holders.length > 0 && holders.every(isKeptContainer), `${base.name}: ${p.tag.toString(16)} ${p.value} survives`).toBe(true);
          stats.survivingInKeptAttributes++;
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(printing?.count(), 'nothing may be printed').toBe(0);
    if (REPORT !== undefined)
      writeFileSync(REPORT, JSON.stringify({ seed: SEED, corpus: corpus.length, ...stats, meanMs: stats.totalMs / stats.runs }, null, 2));
    // Both sides exercised: outputs checked, and coded refusals.
    expect(stats.deidentified).toBeGreaterThan(RUNS / 3);
    expect(Object.keys(stats.errors).length).toBeGreaterThan(0);
  });
});
