/**
 * Private attributes kept under Retain Safe Private Option: a short list taken from PS3.15 Table E.3.10-1
 * ("Safe Private Attributes"), each identified by its private creator, group and element byte (PS3.5 7.8.1),
 * with the VR the table gives it. Only numeric acquisition parameters are listed. Anything not listed is
 * removed even under the option, and so is a listed attribute whose value is not of its listed VR: a
 * private value of unknown VR (sent as UN, or in Implicit VR) is kept only when its bytes parse as that VR.
 * The list is deliberately short; extending it is a privacy decision, to be made against the Standard's table.
 */
import type { DeidElement } from './deid-dataset.js';

export interface SafePrivateTag {
  readonly creator: string;
  readonly group: number;
  /** The low byte of the element (the xx in (gggg,xxee)). */
  readonly element: number;
  readonly name: string;
  readonly vr: 'IS' | 'CS' | 'FD' | 'FL';
}

export const SAFE_PRIVATE_TAGS: readonly SafePrivateTag[] = [
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c, name: 'B_value', vr: 'IS' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0d, name: 'DiffusionDirectionality', vr: 'CS' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0e, name: 'DiffusionGradientDirection', vr: 'FD' },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27, name: 'B_matrix', vr: 'FD' },
  { creator: 'Philips MR Imaging DD 001', group: 0x2001, element: 0x03, name: 'Diffusion B-Factor', vr: 'FL' },
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x39, name: 'Slop_int_6 (b-value)', vr: 'IS' },
];

/** PS3.5 Table 6.2-1: IS is an optionally signed integer, CS upper-case letters, digits, space and underscore. */
const TEXT_PATTERNS: Readonly<Record<string, RegExp>> = {
  IS: /^ *[-+]?\d{1,12} *$/,
  CS: /^[A-Z0-9 _]{0,16}$/,
};
const BINARY_WIDTHS: Readonly<Record<string, number>> = { FD: 8, FL: 4 };

export function findSafePrivate(creator: string | undefined, tag: number): SafePrivateTag | undefined {
  if (creator === undefined) return undefined;
  const group = tag >>> 16;
  const element = tag & 0xff;
  const name = creator.trim().toUpperCase();
  return SAFE_PRIVATE_TAGS.find((s) => s.group === group && s.element === element && s.creator.toUpperCase() === name);
}

/**
 * Whether a private element's value is of the safe attribute's VR: written with that VR, or of unknown VR
 * (UN) with bytes that parse as it (every value of a text VR matching its character repertoire, a binary
 * value a whole number of values long). A sequence never is.
 */
export function hasSafeValue(safe: SafePrivateTag, e: DeidElement): boolean {
  const v = e.value;
  if (e.vr !== safe.vr && e.vr !== 'UN') return false;
  const pattern = TEXT_PATTERNS[safe.vr];
  if (pattern !== undefined) {
    let text: string;
    if (v.kind === 'text') text = v.text;
    else if (v.kind === 'bytes' && v.encapsulated !== true) text = Array.from(v.bytes, (b) => String.fromCharCode(b)).join('');
    else return false;
    return text
      .replace(/[\0 ]+$/, '')
      .split('\\')
      .every((value) => pattern.test(value));
  }
  const width = BINARY_WIDTHS[safe.vr] ?? 0;
  return v.kind === 'bytes' && v.encapsulated !== true && width > 0 && v.bytes.length % width === 0;
}
