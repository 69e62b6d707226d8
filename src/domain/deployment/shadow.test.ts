import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { shadowAgreement, type JudgedOutcome } from './shadow.js';

const image = (file: string, status: JudgedOutcome['status'], decision?: 'positive' | 'negative' | 'refer', frame: number | null = null): JudgedOutcome => ({
  input: { file, frame },
  status,
  outputs: decision === undefined ? [] : [{ finding: 'pneumonia', decision }],
});

describe('shadowAgreement', () => {
  it('compares the images both judged, by file and frame, on status and decisions', () => {
    const production = [
      image('a', 'decided', 'positive'),
      image('b', 'decided', 'negative'),
      image('c', 'rejected'),
      image('d', 'error'),
      image('e', 'decided', 'refer', 0),
    ];
    const shadow = [
      image('a', 'decided', 'positive'),
      image('b', 'decided', 'refer'),
      image('c', 'rejected'),
      image('d', 'decided', 'negative'),
      image('e', 'decided', 'refer', 1),
    ];
    // a agrees, b differs, c agrees (both rejected), d not compared (production could not judge it), e frames differ.
    expect(shadowAgreement(production, shadow)).toEqual({ images: 3, agreedImages: 2 });
  });
  test.prop([
    fc.array(fc.tuple(fc.constantFrom('decided', 'rejected', 'error' as const), fc.constantFrom('positive', 'negative', 'refer' as const)), { maxLength: 30 }),
  ])('a version always agrees with itself, on every image it judged', (rows) => {
    const outcomes = rows.map(([status, decision], i) => image(`f${i}`, status, status === 'decided' ? decision : undefined));
    const judged = outcomes.filter((o) => o.status !== 'error').length;
    expect(shadowAgreement(outcomes, outcomes)).toEqual({ images: judged, agreedImages: judged });
  });
});
