import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../evaluation/random.js';
import {
  acquisitionCategory,
  acquisitionIndicators,
  ACQUISITION_FIELDS,
  designAcquisitionSignals,
  NONE,
  type AcquisitionRecord,
} from './acquisition-signals.js';
import { createMonitorState, designMonitors, updateMonitors } from './deployment-monitors.js';

/** A site's reference mix: two scanners (70/30), one software version each, kVp 70-90, CR chest PA/AP. */
function siteImage(random: SeededRandom): AcquisitionRecord {
  const siemens = random.nextFloat() < 0.7;
  return {
    manufacturer: siemens ? 'SIEMENS ' : 'Agfa',
    manufacturerModel: siemens ? 'Ysio Max' : 'DX-D 600',
    softwareVersion: siemens ? 'VF10' : '2.1',
    kvp: 70 + Math.floor(random.nextFloat() * 20),
    pixelSpacing: [0.139, 0.139],
    photometricInterpretation: 'MONOCHROME2',
    bodyPart: 'CHEST',
    view: random.nextFloat() < 0.8 ? 'PA' : 'AP',
    transferSyntax: '1.2.840.10008.1.2.1',
  };
}

describe('acquisition categories', () => {
  it('folds case and padding, bins kVp to 10 kV and pixel spacing to 0.05 mm, and names what is missing', () => {
    expect(acquisitionCategory('manufacturer', ' SIEMENS ')).toBe('siemens');
    expect(acquisitionCategory('kvp', 84)).toBe('80-90');
    expect(acquisitionCategory('kvp', '125 ')).toBe('120-130');
    expect(acquisitionCategory('pixelSpacing', [0.139, 0.139])).toBe('0.10-0.15');
    expect(acquisitionCategory('pixelSpacing', '0.15\\0.15')).toBe('0.15-0.20');
    expect(acquisitionCategory('pixelSpacing', [0.1, 0.2])).toBe('0.10-0.15 (anisotropic)');
    for (const missing of [undefined, null, '', '  ']) expect(acquisitionCategory('view', missing)).toBe(NONE);
    expect(acquisitionCategory('kvp', 'n/a')).toBe(NONE);
    expect(acquisitionCategory('softwareVersion', 'x'.repeat(1000))).toHaveLength(64);
    // As the server records a DICOM header (judge-study.ts): the CT sample's values, and multi-valued Software Versions joined.
    expect(acquisitionCategory('kvp', 120)).toBe('120-130');
    expect(acquisitionCategory('pixelSpacing', [0.661468, 0.661468])).toBe('0.65-0.70');
    expect(acquisitionCategory('softwareVersion', 'VX 3.1\\PLC 2')).toBe('vx 3.1\\plc 2');
  });
});

describe('acquisition signals', () => {
  const random = new SeededRandom(11);
  const reference = Array.from({ length: 1000 }, () => siteImage(random));
  const design = designAcquisitionSignals(reference);

  it('watches common categories up and down, the rest as `other`, and a one-category field through `other` alone', () => {
    const names = design.signals.map((s) => s.name);
    expect(names).toContain('acquisition.manufacturer=siemens');
    expect(names).toContain('acquisition.manufacturer=agfa');
    expect(names).toContain('acquisition.manufacturer:other');
    expect(names.filter((n) => n.startsWith('acquisition.bodyPart'))).toEqual(['acquisition.bodyPart:other']);
    expect(design.signals.find((s) => s.name === 'acquisition.bodyPart:other')?.label).toBe('body part other than “chest”');
    const share = (name: string) => design.referenceShares[names.indexOf(name)]!;
    expect(share('acquisition.manufacturer=siemens') + share('acquisition.manufacturer=agfa')).toBeCloseTo(1, 12);
    expect(share('acquisition.bodyPart:other')).toBe(0);
    // Nine fields, each with its `other`.
    expect(names.filter((n) => n.endsWith(':other'))).toHaveLength(ACQUISITION_FIELDS.length);
  });

  it('gives each field exactly one indicator at 1 (or none, for the dominant value of a one-category field)', () => {
    const arbitrary = fc.record(
      Object.fromEntries(
        ACQUISITION_FIELDS.map((f) => [
          f,
          fc.option(fc.oneof(fc.constantFrom('SIEMENS', 'agfa', 'CHEST', 'PA', 'AP', 'HAND'), fc.double({ min: 0, max: 200 })), { nil: undefined }),
        ]),
      ),
    ) as fc.Arbitrary<AcquisitionRecord>;
    fc.assert(
      fc.property(arbitrary, (record) => {
        const values = acquisitionIndicators(design, record);
        for (const field of ACQUISITION_FIELDS) {
          const indices = design.categories.flatMap((c, i) => (c.field === field ? [i] : []));
          const ones = indices.reduce((sum, i) => sum + values[i]!, 0);
          const dominant = design.categories[indices.at(-1)!]!.dominant;
          expect(ones).toBe(dominant !== undefined && acquisitionCategory(field, record[field]) === dominant ? 0 : 1);
        }
      }),
    );
  });

  it('is a function of the reference alone (order of images does not matter)', () => {
    const shuffled = [...reference].reverse();
    expect(designAcquisitionSignals(shuffled)).toEqual(design);
  });

  it('raises no alarm on the reference mix, and catches a new scanner software version within a few dozen images', () => {
    const valuesOf = (records: readonly AcquisitionRecord[]) => records.map((r) => acquisitionIndicators(design, r));
    const referenceValues = valuesOf(reference);
    const plan = designMonitors(
      new Map(design.signals.map((s, j) => [s.name, Float64Array.from(referenceValues, (v) => v[j]!)])),
      { falseAlarmDays: 90, casesPerDay: 200 },
      design.signals,
    );
    const state = createMonitorState(plan);
    const stream = new SeededRandom(12);
    let alarms = 0;
    for (let i = 0; i < 2000; i++) alarms += updateMonitors(plan, state, acquisitionIndicators(design, siteImage(stream))).length;
    expect(alarms).toBe(0);
    // The Siemens scanner's software is upgraded: 70 % of images now carry a version never seen.
    let delay = 0;
    let first: string | undefined;
    while (first === undefined && delay < 1000) {
      const image = siteImage(stream);
      const upgraded = image.manufacturer === 'SIEMENS ' ? { ...image, softwareVersion: 'VF11' } : image;
      first = updateMonitors(plan, state, acquisitionIndicators(design, upgraded))[0]?.detector;
      delay++;
    }
    expect(first).toMatch(/^acquisition\.softwareVersion/);
    expect(delay).toBeLessThan(40);
  });

  it('refuses an empty reference', () => {
    expect(() => designAcquisitionSignals([])).toThrow(RangeError);
  });
});
