import { describe, expect, it } from 'vitest';
import { PlatformError } from '../../../domain/errors.js';
import type { Fragment } from './dataset-scanner.js';
import { assembleFrame, planFrames } from './frames.js';
import { basicOffsetsOf, concat, fragmentsValue } from './test-builders.js';

/** Fragment table of a `fragmentsValue` buffer, as the scanner would record it. */
function fragmentsOf(value: Uint8Array): Fragment[] {
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const fragments: Fragment[] = [];
  for (let pos = 0; view.getUint32(pos, true) !== 0xe0ddfffe;) {
    const length = view.getUint32(pos + 4, true);
    fragments.push({ itemOffset: pos, valueOffset: pos + 8, length });
    pos += 8 + length;
  }
  return fragments;
}

const SOI = [0xff, 0xd8];
const EOI = [0xff, 0xd9];
const jpegFrame = (id: number): Uint8Array[] => [Uint8Array.from([...SOI, id, id]), Uint8Array.from([id, id, id, id]), Uint8Array.from([id, ...EOI, 0])];

describe('planFrames', () => {
  const frames = [jpegFrame(1), jpegFrame(2)];

  it('uses the Basic Offset Table when it lands on fragments', () => {
    const value = fragmentsValue(frames.flat(), basicOffsetsOf(frames));
    const plan = planFrames(value, fragmentsOf(value), 2, 'jpeg');
    expect(plan).toEqual({
      split: 'basic-offset-table',
      frames: [
        { first: 0, count: 3 },
        { first: 3, count: 3 },
      ],
    });
    expect(Array.from(assembleFrame(value, fragmentsOf(value), plan.frames[1] ?? { first: 0, count: 0 }))).toEqual(Array.from(concat(jpegFrame(2))));
  });

  it('finds frame starts by SOI after EOI when there is no table', () => {
    const value = fragmentsValue(frames.flat());
    expect(planFrames(value, fragmentsOf(value), 2, 'jpeg-ls').split).toBe('markers');
  });

  it('does not take an SOI-looking fragment as a frame start unless the previous fragment ended a codestream', () => {
    const confusing = [Uint8Array.from([...SOI, 1, 1]), Uint8Array.from([...SOI, 9, 9]), Uint8Array.from([1, ...EOI, 0]), ...jpegFrame(2)];
    const value = fragmentsValue(confusing);
    expect(planFrames(value, fragmentsOf(value), 2, 'jpeg').frames).toEqual([
      { first: 0, count: 3 },
      { first: 3, count: 3 },
    ]);
  });

  it('recognises JPEG 2000 SOC+SIZ and ignores markers for RLE', () => {
    const j2k = (id: number): Uint8Array[] => [Uint8Array.from([0xff, 0x4f, 0xff, 0x51, id]), Uint8Array.from([id, 0xff, 0xd9])];
    const value = fragmentsValue([...j2k(1), ...j2k(2)]);
    expect(planFrames(value, fragmentsOf(value), 2, 'htj2k').split).toBe('markers');
    expect(() => planFrames(value, fragmentsOf(value), 2, 'rle')).toThrow(PlatformError);
  });

  it('takes every fragment for a single frame, and one each when the counts match', () => {
    const value = fragmentsValue(frames.flat());
    expect(planFrames(value, fragmentsOf(value), 1, 'jpeg')).toEqual({ split: 'single', frames: [{ first: 0, count: 6 }] });
    expect(planFrames(value, fragmentsOf(value), 6, 'rle').split).toBe('one-per-frame');
  });

  it('refuses what cannot be split', () => {
    const value = fragmentsValue(frames.flat());
    expect(() => planFrames(value, fragmentsOf(value), 7, 'jpeg')).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_LENGTH_MISMATCH' }));
    expect(() => planFrames(value, fragmentsOf(value), 3, 'jpeg')).toThrow(expect.objectContaining({ code: 'DICOM_PIXEL_LENGTH_MISMATCH' }));
    const empty = fragmentsValue([]);
    expect(() => planFrames(empty, fragmentsOf(empty), 1, 'jpeg')).toThrow(expect.objectContaining({ code: 'DICOM_NO_PIXEL_DATA' }));
  });
});
