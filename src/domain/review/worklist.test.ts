import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { worklistReasons } from './worklist.js';

describe('worklistReasons', () => {
  it('sends what the model referred, and what the gate rejected or warned about', () => {
    expect(worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['refer'] }, 0.9, 0.05)).toEqual(['model_referred']);
    expect(worklistReasons({ status: 'rejected', gateVerdict: 'reject', gateUnchecked: false, decisions: [] }, 0.9, 0.05)).toEqual(['gate_rejected']);
    expect(worklistReasons({ status: 'decided', gateVerdict: 'warn', gateUnchecked: false, decisions: ['refer'] }, 0.9, 0.05)).toEqual([
      'gate_warned',
      'model_referred',
    ]);
  });
  it('says apart that a restricted check could not be made (an unknown age or view), beside the verdict', () => {
    expect(worklistReasons({ status: 'decided', gateVerdict: 'warn', gateUnchecked: true, decisions: ['refer'] }, 0.01, 0.05)).toEqual([
      'gate_warned',
      'gate_unchecked',
      'model_referred',
    ]);
    expect(worklistReasons({ status: 'rejected', gateVerdict: 'reject', gateUnchecked: true, decisions: [] }, 0.9, 0.05)).toEqual([
      'gate_rejected',
      'gate_unchecked',
    ]);
  });
  it('samples confident decisions at the given rate, and never errors', () => {
    expect(worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['positive'] }, 0.01, 0.05)).toEqual(['random_sample']);
    expect(worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['negative'] }, 0.06, 0.05)).toEqual([]);
    expect(worklistReasons({ status: 'error', gateVerdict: null, gateUnchecked: false, decisions: [] }, 0, 1)).toEqual([]);
  });
  test.prop([fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })])(
    'samples a confident case exactly when its draw is below the rate',
    (draw, rate) => {
      const sampled = worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['negative'] }, draw, rate).length > 0;
      expect(sampled).toBe(draw < rate);
    },
  );
  it('samples the stated share of a uniform grid of draws', () => {
    const draws = Array.from({ length: 400 }, (_, i) => i / 400);
    const sampled = draws.filter(
      (d) => worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['negative'] }, d, 0.1).length > 0,
    );
    expect(sampled).toHaveLength(40);
  });
});
