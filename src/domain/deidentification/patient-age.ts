/**
 * The patient's age in whole years, derived at the door before de-identification removes what it is
 * derived from (the Basic Profile removes Patient's Age and Patient's Birth Date, PS3.15 Table E.1-1).
 * Only this number goes on: the intended-use gate needs it (a model trained on children is not for
 * adults), and the dates never leave the door.
 */

import { textOf, type DeidDataset } from './deid-dataset.js';

/**
 * HIPAA Safe Harbor (45 CFR 164.514(b)(2)(i)(C)) lets ages be kept only below 90: all ages of 90 and
 * over are aggregated into one category, reported here as 90.
 */
export const PATIENT_AGE_CAP_YEARS = 90;

/** The header values the age is derived from, as text (trailing padding removed). */
export interface PatientAgeSources {
  /** Patient's Age (0010,1010), AS: `nnnD`, `nnnW`, `nnnM` or `nnnY` (PS3.5 6.2). */
  readonly patientAge?: string;
  /** Patient's Birth Date (0010,0030), DA: YYYYMMDD. */
  readonly birthDate?: string;
  /**
   * Dates of the examination, best first: Study Date (0008,0020), then Series (0008,0021), Acquisition
   * (0008,0022) and Content Date (0008,0023); the first valid one is used.
   */
  readonly examDates?: readonly (string | undefined)[];
}

/** Days in a mean Gregorian year, to turn an age given in days or weeks into whole years. */
const DAYS_PER_YEAR = 365.2425;

/**
 * Patient's Age when it is present and valid, otherwise the completed years between the birth date and
 * the first valid examination date; undefined when neither is known. Capped at 90 (PATIENT_AGE_CAP_YEARS).
 *
 * @example derivePatientAgeYears({ birthDate: '19400305', examDates: ['20040826'] }) // 64
 * @example derivePatientAgeYears({ patientAge: '018M' }) // 1
 */
export function derivePatientAgeYears(sources: PatientAgeSources): number | undefined {
  const stated = sources.patientAge === undefined ? undefined : parseAgeString(sources.patientAge);
  if (stated !== undefined) return Math.min(stated, PATIENT_AGE_CAP_YEARS);
  const birth = sources.birthDate === undefined ? undefined : parseDate(sources.birthDate);
  if (birth === undefined) return undefined;
  for (const text of sources.examDates ?? []) {
    const exam = text === undefined ? undefined : parseDate(text);
    if (exam === undefined) continue;
    const years = completedYears(birth, exam);
    // An examination before the birth is a wrong date, not an age.
    return years === undefined ? undefined : Math.min(years, PATIENT_AGE_CAP_YEARS);
  }
  return undefined;
}

/**
 * AS (PS3.5 6.2): three digits and a unit; whole years, rounded down. One or two digits (`75Y`, seen
 * from senders that do not pad) are read too: their meaning is not in doubt, and falling back to the
 * dates instead could contradict what the sender stated.
 */
export function parseAgeString(text: string): number | undefined {
  const match = /^(\d{1,3})([DWMY])$/.exec(text.trim());
  if (match === null) return undefined;
  const n = Number(match[1]);
  const unit = match[2] as 'D' | 'W' | 'M' | 'Y';
  switch (unit) {
    case 'D':
      return Math.floor(n / DAYS_PER_YEAR);
    case 'W':
      return Math.floor((n * 7) / DAYS_PER_YEAR);
    case 'M':
      return Math.floor(n / 12);
    case 'Y':
      return n;
  }
}

interface CalendarDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

/**
 * DA (PS3.5 6.2): `YYYYMMDD`, or the ACR-NEMA `YYYY.MM.DD` that PS3.5 still asks readers to accept;
 * undefined for anything else or for a day that does not exist.
 */
function parseDate(text: string): CalendarDate | undefined {
  const match = /^(\d{4})\.?(\d{2})\.?(\d{2})$/.exec(text.trim());
  if (match === null) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Birthdays completed by `on`; someone born on 29 February completes a year on 1 March in other years. */
function completedYears(birth: CalendarDate, on: CalendarDate): number | undefined {
  const beforeBirthday = on.month < birth.month || (on.month === birth.month && on.day < birth.day);
  const years = on.year - birth.year - (beforeBirthday ? 1 : 0);
  return years < 0 ? undefined : years;
}

/** The age from a dataset as received, before the profile is applied (top-level elements only). */
export function derivePatientAgeOfDataset(dataset: DeidDataset): number | undefined {
  const text = (tag: number): string | undefined => textOf(dataset, tag);
  return derivePatientAgeYears({
    ...optional('patientAge', text(0x00101010)),
    ...optional('birthDate', text(0x00100030)),
    examDates: [0x00080020, 0x00080021, 0x00080022, 0x00080023].map(text),
  });
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
