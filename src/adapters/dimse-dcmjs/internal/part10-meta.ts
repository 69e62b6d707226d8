/**
 * The File Meta Information header (PS3.10 Section 7.1) placed in front of a received data set so that the
 * bytes on disk form a Part 10 file. Group 0002 is always Explicit VR Little Endian, whatever the data set's
 * transfer syntax. The data set that follows is never touched.
 */

/** Vigil's Implementation Class UID (a UUID-derived UID, PS3.5 Annex B.2); it never changes. */
export const VIGIL_IMPLEMENTATION_CLASS_UID = '2.25.181153906873877718006661604709272527820';
export const VIGIL_IMPLEMENTATION_VERSION_NAME = 'VIGIL_0';

export interface Part10MetaFields {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly transferSyntaxUid: string;
  /** (0002,0017) Sending Application Entity Title: the calling AE. */
  readonly sendingAeTitle: string;
  /** (0002,0018) Receiving Application Entity Title: our AE. */
  readonly receivingAeTitle: string;
}

const PREAMBLE_LENGTH = 128;

/** PS3.5 Section 9.1: a UID is at most 64 characters of digits and dots, without leading zeros per component. */
export function isValidUid(value: string): boolean {
  return value.length > 0 && value.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(value);
}

/** Trailing padding (NUL for UI, space for text VRs) and leading/trailing spaces removed. */
export function trimDicomString(value: string): string {
  return value.replace(/\0+$/, '').trim();
}

function element(group: number, elementNumber: number, vr: string, value: Buffer): Buffer {
  const longForm = vr === 'OB';
  const header = Buffer.alloc(longForm ? 12 : 8);
  header.writeUInt16LE(group, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.write(vr, 4, 'latin1');
  if (longForm) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

/** Value padded to even length: UI with NUL, text VRs with a space (PS3.5 Section 6.2). */
function padded(value: string, pad: '\0' | ' '): Buffer {
  return Buffer.from(value.length % 2 === 0 ? value : value + pad, 'latin1');
}

/** The preamble, "DICM" and group 0002, ready to be followed by the data set bytes. */
export function buildPart10Header(fields: Part10MetaFields): Buffer {
  const body = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0x00, 0x01])),
    element(0x0002, 0x0002, 'UI', padded(fields.sopClassUid, '\0')),
    element(0x0002, 0x0003, 'UI', padded(fields.sopInstanceUid, '\0')),
    element(0x0002, 0x0010, 'UI', padded(fields.transferSyntaxUid, '\0')),
    element(0x0002, 0x0012, 'UI', padded(VIGIL_IMPLEMENTATION_CLASS_UID, '\0')),
    element(0x0002, 0x0013, 'SH', padded(VIGIL_IMPLEMENTATION_VERSION_NAME, ' ')),
    element(0x0002, 0x0017, 'AE', padded(fields.sendingAeTitle, ' ')),
    element(0x0002, 0x0018, 'AE', padded(fields.receivingAeTitle, ' ')),
  ]);
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(body.length, 0);
  return Buffer.concat([Buffer.alloc(PREAMBLE_LENGTH), Buffer.from('DICM', 'latin1'), element(0x0002, 0x0000, 'UL', groupLength), body]);
}
