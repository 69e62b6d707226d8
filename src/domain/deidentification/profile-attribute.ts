/**
 * The vocabulary of PS3.15 Annex E, Table E.1-1 (the Basic Application Level Confidentiality Profile and
 * its options). The table itself is generated (confidentiality-profile-table.ts).
 */

/**
 * Basic Profile actions (PS3.15 Table E.1-1 legend): D dummy, Z zero-length or dummy, X remove, K keep,
 * C clean, U replace UID; combined codes let the implementation pick the one that keeps the IOD valid.
 */
export type BasicAction = 'X' | 'Z' | 'D' | 'U' | 'K' | 'C' | 'X/Z' | 'X/D' | 'Z/D' | 'X/Z/D' | 'X/Z/U*';

/** The Table E.1-1 option columns, named as the CLI's `--option` values. Clean Pixel Data has no column. */
export const PROFILE_OPTIONS = [
  'retain-safe-private',
  'retain-uids',
  'retain-device-identity',
  'retain-institution-identity',
  'retain-patient-characteristics',
  'retain-longitudinal-full-dates',
  'retain-longitudinal-modified-dates',
  'clean-descriptors',
  'clean-structured-content',
  'clean-graphics',
  'clean-pixel-data',
] as const;

export type ProfileOption = (typeof PROFILE_OPTIONS)[number];

export function isProfileOption(value: string): value is ProfileOption {
  return (PROFILE_OPTIONS as readonly string[]).includes(value);
}

export interface ProfileAttribute {
  /** 8 hex digits, lower case, 'x' a wildcard digit; or 'private' for odd groups. */
  readonly tag: string;
  readonly name: string;
  readonly basic: BasicAction;
  readonly options?: Partial<Record<ProfileOption, 'K' | 'C'>>;
  /** The Standard's "in Std. Comp. IOD" column. */
  readonly inStdIod: boolean;
}
