import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { priorityRank, studyWorklistEntry, WORKLIST_PRIORITIES, worklistPriority, worklistReasons, type JudgedImage } from './worklist.js';

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
  it('samples confident decisions at the given rate, and sends every image nothing judged to a human', () => {
    expect(worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['positive'] }, 0.01, 0.05)).toEqual(['random_sample']);
    expect(worklistReasons({ status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['negative'] }, 0.06, 0.05)).toEqual([]);
    expect(worklistReasons({ status: 'error', gateVerdict: null, gateUnchecked: false, decisions: [] }, 0.99, 0)).toEqual(['not_judged']);
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

describe('studyWorklistEntry', () => {
  const rejected = { status: 'rejected', gateVerdict: 'reject', gateUnchecked: false, decisions: [] } as const;
  const referred = { status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['refer'] } as const;
  const warned = { status: 'decided', gateVerdict: 'warn', gateUnchecked: true, decisions: ['negative'] } as const;
  const confident = { status: 'decided', gateVerdict: 'pass', gateUnchecked: false, decisions: ['negative'] } as const;
  const error = { status: 'error', gateVerdict: null, gateUnchecked: false, decisions: [] } as const;

  it('makes one entry of a 30-frame cine of rejected frames, covering every frame', () => {
    const entry = studyWorklistEntry(
      Array.from({ length: 30 }, () => rejected),
      0.9,
      0.05,
    );
    expect(entry).toEqual({
      reasons: ['gate_rejected'],
      priority: 'rejected',
      resultIndexes: Array.from({ length: 30 }, (_, i) => i),
      leadIndex: 0,
      samplingProbability: 1,
    });
  });
  it('ranks a study by its most urgent image, which it shows first', () => {
    const entry = studyWorklistEntry([rejected, confident, warned, referred, error], 0.9, 0.05);
    expect(entry).toEqual({
      reasons: ['not_judged', 'model_referred', 'gate_warned', 'gate_rejected', 'gate_unchecked'],
      priority: 'referred',
      resultIndexes: [0, 2, 3, 4],
      leadIndex: 3,
      samplingProbability: 1,
    });
  });
  it('samples a confident study as a whole, with one draw; a study with an image nothing judged always goes', () => {
    // Sampled: included with the sample rate's probability, kept with the item.
    expect(studyWorklistEntry([confident, confident], 0.01, 0.05)).toEqual({
      reasons: ['random_sample'],
      priority: 'sampled',
      resultIndexes: [0, 1],
      leadIndex: 0,
      samplingProbability: 0.05,
    });
    expect(studyWorklistEntry([confident, confident], 0.06, 0.05)).toBeUndefined();
    expect(studyWorklistEntry([confident, error, confident], 0.99, 0)).toEqual({
      reasons: ['not_judged'],
      priority: 'referred',
      resultIndexes: [1],
      leadIndex: 1,
      samplingProbability: 1,
    });
    expect(studyWorklistEntry([], 0, 1)).toBeUndefined();
  });
  test.prop([
    fc.array(fc.constantFrom(rejected, referred, warned, confident, error), { maxLength: 40 }),
    fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
  ])('covers exactly the images that give a reason, and its priority is the most urgent image reason', (images, draw) => {
    const entry = studyWorklistEntry(images, draw, 0.05);
    const flagged = images.flatMap((image, i) => (worklistReasons(image, 1, 0).length > 0 ? [i] : []));
    if (flagged.length > 0) {
      expect(entry?.resultIndexes).toEqual(flagged);
      const ranks = flagged.map((i) => priorityRank(worklistPriority(worklistReasons(images[i] as JudgedImage, 1, 0))));
      expect(priorityRank(entry?.priority ?? 'sampled')).toBe(Math.min(...ranks));
      expect(entry?.resultIndexes).toContain(entry?.leadIndex);
    } else {
      expect(entry === undefined || entry.priority === 'sampled').toBe(true);
    }
  });
});

describe('worklistPriority', () => {
  it('orders referred, warned, rejected, sampled', () => {
    expect(worklistPriority(['gate_rejected', 'model_referred'])).toBe('referred');
    expect(worklistPriority(['gate_warned', 'gate_unchecked'])).toBe('warned');
    expect(worklistPriority(['gate_rejected', 'gate_unchecked'])).toBe('rejected');
    expect(worklistPriority(['gate_rejected'])).toBe('rejected');
    expect(worklistPriority(['random_sample'])).toBe('sampled');
    expect(WORKLIST_PRIORITIES.map(priorityRank)).toEqual([0, 1, 2, 3]);
  });
});
