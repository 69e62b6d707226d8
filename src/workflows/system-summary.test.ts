import { describe, expect, it } from 'vitest';
import { nearestRank } from './system-summary.js';

describe('nearestRank', () => {
  it('takes the smallest value with at least q of the values at or below it', () => {
    const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(nearestRank(ten, 0.5)).toBe(5);
    expect(nearestRank(ten, 0.95)).toBe(10);
    expect(nearestRank(ten, 0.9)).toBe(9);
    expect(nearestRank([42], 0.95)).toBe(42);
    expect(nearestRank([], 0.5)).toBeNull();
  });
});
