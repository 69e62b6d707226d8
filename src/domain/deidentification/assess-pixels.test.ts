import { describe, expect, it } from 'vitest';
import { assessPixels, burnedInRisks, parsePixelRules } from './assess-pixels.js';
import type { DeidDataset, DeidElement } from './deid-dataset.js';

const text = (tag: number, vr: string, value: string): DeidElement => ({ tag, vr, value: { kind: 'text', text: value } });
const us = (tag: number, value: number): DeidElement => ({ tag, vr: 'US', value: { kind: 'bytes', bytes: Uint8Array.of(value & 0xff, value >> 8) } });
const pixels: DeidElement = { tag: 0x7fe00010, vr: 'OW', value: { kind: 'bytes', bytes: new Uint8Array(8) } };
const image = (modality: string, extra: DeidElement[] = []): DeidDataset => [
  text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.6.1'),
  text(0x00080060, 'CS', modality),
  text(0x00081090, 'LO', 'SYNTH MODEL'),
  us(0x00280010, 480),
  us(0x00280011, 640),
  ...extra,
  pixels,
];

describe('burned-in identity', () => {
  it('names the risks: Burned In Annotation YES, US/SC/XC, secondary capture', () => {
    expect(burnedInRisks(image('CT'))).toEqual([]);
    expect(burnedInRisks(image('US'))).toEqual(['modality-us-burned-in-common']);
    expect(burnedInRisks(image('CT', [text(0x00280301, 'CS', 'YES')]))).toEqual(['burned-in-annotation-yes']);
    expect(burnedInRisks([text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'), pixels])).toEqual(['secondary-capture-sop-class']);
    expect(burnedInRisks([text(0x00080060, 'CS', 'US')])).toEqual([]); // no pixels, nothing to burn in
  });

  it('quarantines a risky image unless Clean Pixel Data is chosen and a rule matches', () => {
    const rules = parsePixelRules({
      rules: [
        {
          name: 'synth',
          match: { modality: 'US', manufacturerModelName: 'synth model', rows: 480, columns: 640 },
          rectangles: [{ x: 0, y: 0, width: 640, height: 40 }],
        },
      ],
    });
    expect(assessPixels(image('US'), rules, false)).toMatchObject({
      kind: 'quarantine',
      reasons: ['modality-us-burned-in-common', 'clean-pixel-data-option-not-chosen'],
    });
    expect(assessPixels(image('US'), rules, true)).toMatchObject({ kind: 'clean' });
    expect(
      assessPixels(
        image('US', []).map((e) => (e.tag === 0x00280010 ? us(e.tag, 481) : e)),
        rules,
        true,
      ),
    ).toMatchObject({ kind: 'quarantine' });
    expect(assessPixels(image('CT'), rules, false)).toEqual({ kind: 'release' });
  });

  it('rejects a malformed rules file with a coded error naming the field', () => {
    expect(() => parsePixelRules({ rules: [{ name: 'x', match: {}, rectangles: [] }] })).toThrow(expect.objectContaining({ code: 'DEID_PIXEL_RULE_INVALID' }));
    expect(() => parsePixelRules({ rules: [{ name: 'x', match: { modality: 'US' }, rectangles: [{ x: -1, y: 0, width: 1, height: 1 }] }] })).toThrow(
      /rectangles/,
    );
  });
});
