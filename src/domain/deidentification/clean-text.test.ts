import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { cleanText, identifierTokens } from './clean-text.js';

describe('cleanText', () => {
  const tokens = identifierTokens(['SYNTHETIC^PATIENT', 'SYNTH-PID-0001', 'SYNTHETIC GENERAL HOSPITAL']);

  it('removes identifiers the dataset names, and dates, long numbers, e-mails and phone numbers', () => {
    expect(cleanText('Follow-up of synthetic patient at General Hospital', tokens)).toBe('Follow-up of * * at * *');
    expect(cleanText('seen 2021-03-04, MRN 12345678, mail a.b@example.org, tel +1 555 123 4567', new Set())).toBe('seen *, MRN *, mail *, tel *');
    expect(cleanText('AXIAL T1 POST', tokens)).toBe('AXIAL T1 POST');
  });

  test.prop([fc.string({ maxLength: 80 })])('is idempotent', (text) => {
    const once = cleanText(text, tokens);
    expect(cleanText(once, tokens)).toBe(once);
  });
});
