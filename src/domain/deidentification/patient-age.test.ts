import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { derivePatientAgeYears, parseAgeString, PATIENT_AGE_CAP_YEARS } from './patient-age.js';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const da = (year: number, month: number, day: number): string => `${pad(year, 4)}${pad(month, 2)}${pad(day, 2)}`;

describe('parseAgeString (Patient\u2019s Age, AS)', () => {
  it('reads each unit as whole years, rounded down', () => {
    expect(parseAgeString('064Y')).toBe(64);
    expect(parseAgeString('018M')).toBe(1);
    expect(parseAgeString('011M')).toBe(0);
    expect(parseAgeString('104W')).toBe(1); // 728 days
    expect(parseAgeString('052W')).toBe(0); // 364 days
    expect(parseAgeString('400D')).toBe(1);
    expect(parseAgeString('365D')).toBe(0); // under a mean Gregorian year
    expect(parseAgeString('000D')).toBe(0);
  });

  it('refuses what is not a number of up to three digits and a unit', () => {
    for (const bad of ['', 'Y', '064', '064y', '064A', 'Y064', '0064Y', '06.4Y', '-01Y', '1 Y']) expect(parseAgeString(bad)).toBeUndefined();
  });

  it('reads an unpadded age too (75Y), as senders write it', () => {
    expect(parseAgeString('75Y')).toBe(75);
    expect(parseAgeString('3M')).toBe(0);
  });

  test.prop([fc.integer({ min: 0, max: 999 }), fc.constantFrom('D', 'W', 'M', 'Y')])('is a whole number no larger than the years stated', (n, unit) => {
    const years = parseAgeString(`${pad(n, 3)}${unit}`) as number;
    expect(Number.isInteger(years)).toBe(true);
    expect(years).toBeGreaterThanOrEqual(0);
    expect(years).toBeLessThanOrEqual(n);
  });
});

describe('derivePatientAgeYears', () => {
  it('derives the adult CR film\u2019s age from its birth and study dates (64)', () => {
    expect(derivePatientAgeYears({ birthDate: '19400305', examDates: ['20040826'] })).toBe(64);
  });

  it('counts a year only once the birthday is reached', () => {
    expect(derivePatientAgeYears({ birthDate: '20000826', examDates: ['20040825'] })).toBe(3);
    expect(derivePatientAgeYears({ birthDate: '20000826', examDates: ['20040826'] })).toBe(4);
    expect(derivePatientAgeYears({ birthDate: '20000901', examDates: ['20040826'] })).toBe(3);
    // Born on 29 February: a year is completed on 1 March in other years.
    expect(derivePatientAgeYears({ birthDate: '20000229', examDates: ['20010228'] })).toBe(0);
    expect(derivePatientAgeYears({ birthDate: '20000229', examDates: ['20010301'] })).toBe(1);
    expect(derivePatientAgeYears({ birthDate: '20000229', examDates: ['20040229'] })).toBe(4);
  });

  it('prefers Patient\u2019s Age over the dates, and falls back to the dates when it is invalid', () => {
    expect(derivePatientAgeYears({ patientAge: '003Y', birthDate: '19400305', examDates: ['20040826'] })).toBe(3);
    expect(derivePatientAgeYears({ patientAge: 'old', birthDate: '19400305', examDates: ['20040826'] })).toBe(64);
  });

  it('uses the first valid examination date', () => {
    expect(derivePatientAgeYears({ birthDate: '20000101', examDates: [undefined, '2004', '20030615', '20100101'] })).toBe(3);
  });

  it('is unknown without a valid birth date or examination date, or with an examination before the birth', () => {
    expect(derivePatientAgeYears({})).toBeUndefined();
    expect(derivePatientAgeYears({ birthDate: '19400305' })).toBeUndefined();
    expect(derivePatientAgeYears({ birthDate: '19400305', examDates: [undefined, ''] })).toBeUndefined();
    expect(derivePatientAgeYears({ examDates: ['20040826'] })).toBeUndefined();
    for (const bad of ['', '1940', '19401305', '19400230', '19410229', '19400000', 'abcdefgh', '1940-03-05'])
      expect(derivePatientAgeYears({ birthDate: bad, examDates: ['20040826'] })).toBeUndefined();
    expect(derivePatientAgeYears({ birthDate: '20040827', examDates: ['20040826'] })).toBeUndefined();
  });

  it('accepts the ACR-NEMA date form', () => {
    expect(derivePatientAgeYears({ birthDate: '1940.03.05', examDates: ['2004.08.26'] })).toBe(64);
  });

  it('reports 90 and over as 90 (HIPAA Safe Harbor)', () => {
    expect(derivePatientAgeYears({ birthDate: '19100101', examDates: ['20000101'] })).toBe(90);
    expect(derivePatientAgeYears({ birthDate: '19000101', examDates: ['20040101'] })).toBe(90);
    expect(derivePatientAgeYears({ birthDate: '19100102', examDates: ['20000101'] })).toBe(89);
    expect(derivePatientAgeYears({ patientAge: '104Y' })).toBe(90);
    expect(derivePatientAgeYears({ patientAge: '090Y' })).toBe(90);
    expect(derivePatientAgeYears({ patientAge: '089Y' })).toBe(89);
  });

  const date = fc.record({ year: fc.integer({ min: 1850, max: 2100 }), month: fc.integer({ min: 1, max: 12 }), day: fc.integer({ min: 1, max: 28 }) });

  test.prop([date, fc.integer({ min: 0, max: 150 }), fc.integer({ min: 0, max: 364 })])(
    'equals the years between the dates, whatever the day within the year, capped at 90',
    (birth, years, extraDays) => {
      // The examination `years` birthdays later, then up to 364 days more (never a further birthday).
      const examDay = new Date(Date.UTC(birth.year + years, birth.month - 1, birth.day + extraDays));
      const age = derivePatientAgeYears({
        birthDate: da(birth.year, birth.month, birth.day),
        examDates: [da(examDay.getUTCFullYear(), examDay.getUTCMonth() + 1, examDay.getUTCDate())],
      });
      expect(age).toBe(Math.min(years, PATIENT_AGE_CAP_YEARS));
    },
  );

  test.prop([date, fc.integer({ min: 1, max: 3650 })])('is unknown for an examination before the birth', (birth, daysBefore) => {
    const exam = new Date(Date.UTC(birth.year, birth.month - 1, birth.day - daysBefore));
    expect(
      derivePatientAgeYears({
        birthDate: da(birth.year, birth.month, birth.day),
        examDates: [da(exam.getUTCFullYear(), exam.getUTCMonth() + 1, exam.getUTCDate())],
      }),
    ).toBeUndefined();
  });

  test.prop([fc.integer({ min: 0, max: 999 }), fc.constantFrom('D', 'W', 'M', 'Y'), fc.option(fc.string(), { nil: undefined })])(
    'is always a whole number in [0, 90] when known',
    (n, unit, birthDate) => {
      const age = derivePatientAgeYears({ patientAge: `${pad(n, 3)}${unit}`, ...(birthDate === undefined ? {} : { birthDate }), examDates: ['20040826'] });
      expect(Number.isInteger(age)).toBe(true);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(PATIENT_AGE_CAP_YEARS);
    },
  );
});
