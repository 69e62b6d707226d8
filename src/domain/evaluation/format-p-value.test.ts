import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { formatPValue } from './format-p-value.js';
import { twoSidedNormalPValue } from './normal.js';

describe('formatPValue', () => {
  it('prints a tiny p-value in scientific notation, not 0', () => {
    expect(formatPValue(5.7e-33)).toBe('5.7e-33');
    expect(formatPValue(0.0271757822291882)).toBe('0.0272');
    expect(formatPValue(1)).toBe('1');
    expect(formatPValue(0.00099)).toBe('9.9e-4');
    expect(formatPValue(Number.NaN)).toBe('not available');
  });
  it('prints a p-value that underflows a double from its logarithm', () => {
    const p = twoSidedNormalPValue(43.4);
    expect(p.p).toBe(0);
    expect(formatPValue(p.p, p.log10)).toMatch(/^\d\.\de-4\d\d$/);
    expect(formatPValue(0, -411.99999)).toBe('1.0e-412');
  });
  test.prop([fc.double({ min: 1e-300, max: 1, noNaN: true })])('reads back within the printed precision', (p) => {
    const printed = Number(formatPValue(p));
    expect(Math.abs(printed - p) / p).toBeLessThanOrEqual(0.05);
    expect(printed).toBeGreaterThan(0);
  });
});
