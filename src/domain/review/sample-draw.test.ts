import { createHash } from 'node:crypto';
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { reviewSampleDraw } from './sample-draw.js';

const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

describe('reviewSampleDraw', () => {
  it('is the first 48 bits of the hash of the item id, as a fraction (a re-run draws the same)', () => {
    expect(reviewSampleDraw('item-1', sha256Hex)).toBe(0.8900686330768259);
    expect(reviewSampleDraw('item-1', () => '000000000000ffff')).toBe(0);
    expect(reviewSampleDraw('item-1', () => '800000000000')).toBe(0.5);
  });

  test.prop([fc.string()])('lies in [0, 1)', (itemId) => {
    const draw = reviewSampleDraw(itemId, sha256Hex);
    expect(draw).toBeGreaterThanOrEqual(0);
    expect(draw).toBeLessThan(1);
  });

  it('samples about the rate asked for', () => {
    const draws = Array.from({ length: 4_000 }, (_, i) => reviewSampleDraw(`item-${i}`, sha256Hex));
    const share = draws.filter((d) => d < 0.05).length / draws.length;
    expect(share).toBeGreaterThan(0.035);
    expect(share).toBeLessThan(0.065);
  });
});
