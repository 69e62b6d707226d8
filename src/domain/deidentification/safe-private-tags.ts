/**
 * Private attributes kept under Retain Safe Private Option: a short list taken from PS3.15 Table E.3.10-1
 * ("Safe Private Attributes"), each identified by its private creator, group and element byte (PS3.5 7.8.1).
 * Only numeric acquisition parameters are listed. Anything not listed is removed even under the option.
 * The list is deliberately short; extending it is a privacy decision, to be made against the Standard's table.
 */
export interface SafePrivateTag {
  readonly creator: string;
  readonly group: number;
  /** The low byte of the element (the xx in (gggg,xxee)). */
  readonly element: number;
  readonly name: string;
}

export const SAFE_PRIVATE_TAGS: readonly SafePrivateTag[] = [
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c, name: 'B_value' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0d, name: 'DiffusionDirectionality' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0e, name: 'DiffusionGradientDirection' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27, name: 'B_matrix' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2001, element: 0x03, name: 'Diffusion B-Factor' },
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x39, name: 'Slop_int_6 (b-value)' },
];

export function isSafePrivate(creator: string | undefined, tag: number): boolean {
  if (creator === undefined) return false;
  const group = tag >>> 16;
  const element = tag & 0xff;
  const name = creator.trim().toUpperCase();
  return SAFE_PRIVATE_TAGS.some((s) => s.group === group && s.element === element && s.creator.toUpperCase() === name);
}
