/**
 * Keyed, deterministic replacements. Every value is derived from an HMAC-SHA-256 with the site secret
 * (`KeyedDigest`, supplied by an adapter: the domain does no cryptography of its own), domain-separated by
 * purpose. Without the secret a pseudonym cannot be linked to its original; with it, the same original
 * always gives the same pseudonym, across runs and studies.
 *
 * Every pseudonym carries a keyed check (a second HMAC over the first part), so a value this site made can
 * be recognised and left alone: that is what makes de-identifying twice equal de-identifying once.
 */
export type KeyedDigest = (purpose: string, value: string) => Uint8Array;

const hex = (bytes: Uint8Array, count: number): string => [...bytes.subarray(0, count)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * PS3.5 B.2: a UID under the root 2.25 is the decimal of a 128-bit UUID. The UUID is RFC 9562 version 8
 * (custom): 90 bits from HMAC('uid', original) and 32 check bits from HMAC('uid-check', those bits).
 *
 * @example remapUid(digest, '1.2.840.113619.2.55.3') // '2.25.1797…' (up to 44 characters)
 */
export function remapUid(digest: KeyedDigest, uid: string): string {
  const trimmed = uid.replace(/[\0 ]+$/, '');
  if (trimmed === '' || isRemappedUid(digest, trimmed)) return trimmed;
  const body = digest('uid', trimmed).slice(0, 12);
  setUuidBits(body);
  const check = digest('uid-check', hex(body, 12)).subarray(0, 4);
  const bytes = new Uint8Array(16);
  bytes.set(body, 0);
  bytes.set(check, 12);
  return '2.25.' + BigInt('0x' + hex(bytes, 16)).toString(10);
}

function setUuidBits(body: Uint8Array): void {
  body[6] = ((body[6] ?? 0) & 0x0f) | 0x80; // version 8
  body[8] = ((body[8] ?? 0) & 0x3f) | 0x80; // RFC variant
}

export function isRemappedUid(digest: KeyedDigest, uid: string): boolean {
  const match = /^2\.25\.([1-9][0-9]{0,38})$/.exec(uid);
  if (match?.[1] === undefined) return false;
  const value = BigInt(match[1]);
  if (value >= 1n << 128n) return false;
  const all = value.toString(16).padStart(32, '0');
  const body = all.slice(0, 24);
  return hex(digest('uid-check', body), 4) === all.slice(24);
}

/**
 * A pseudonymous token of at most `maxLength` characters (upper-case hex after a 'V', so it is valid for
 * CS, SH, LO, AE and PN): hash digits of HMAC(purpose, original), then check digits. 16 characters give
 * 44 bits of hash; 64-character VRs get 27 (capped at 112 bits).
 */
export function pseudonymToken(digest: KeyedDigest, purpose: string, original: string, maxLength: number): string {
  const length = Math.min(Math.max(maxLength, 8), 36);
  if (isPseudonymToken(digest, purpose, original)) return original;
  const checkDigits = length >= 24 ? 8 : 4;
  const hashDigits = length - 1 - checkDigits;
  const body = hex(digest(purpose, original), 16).slice(0, hashDigits).toUpperCase();
  return 'V' + body + checkOf(digest, purpose, body, checkDigits);
}

function checkOf(digest: KeyedDigest, purpose: string, body: string, digits: number): string {
  return hex(digest(`${purpose}-check`, body), 4)
    .slice(0, digits)
    .toUpperCase();
}

export function isPseudonymToken(digest: KeyedDigest, purpose: string, value: string): boolean {
  const match = /^V([0-9A-F]+)$/.exec(value);
  if (match?.[1] === undefined) return false;
  const digits = match[1].length + 1 >= 24 ? 8 : 4;
  const body = match[1].slice(0, match[1].length - digits);
  return body.length > 0 && checkOf(digest, purpose, body, digits) === match[1].slice(-digits);
}

/**
 * Per-patient date offset in days, in [-3652, -1] (up to ten years back, never zero): the same patient is
 * shifted by the same amount in every study, so intervals between a patient's studies survive.
 */
export function dateOffsetDays(digest: KeyedDigest, patientKey: string): number {
  const bytes = digest('date-offset', patientKey);
  const n = ((bytes[0] ?? 0) << 16) | ((bytes[1] ?? 0) << 8) | (bytes[2] ?? 0);
  return -1 - (n % 3652);
}

/** A short fingerprint of the site secret (not reversible), recorded in (0012,0063) to recognise our own output. */
export function keyFingerprint(digest: KeyedDigest): string {
  return hex(digest('key-fingerprint', ''), 4).toUpperCase();
}

/** Shifts a DA value (YYYYMMDD) by whole days; anything else it cannot parse becomes the dummy date. */
export function shiftDate(value: string, days: number): string {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value.trim());
  if (m === null) return value.trim() === '' ? '' : '19000101';
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + days * 86_400_000;
  const d = new Date(t);
  if (Number.isNaN(t) || d.getUTCFullYear() < 1) return '19000101';
  return `${String(d.getUTCFullYear()).padStart(4, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

/** Shifts the date part of a DT value (YYYYMMDD[HHMMSS[.F]][&ZZXX]); a DT coarser than a day becomes the dummy. */
export function shiftDateTime(value: string, days: number): string {
  const v = value.trim();
  if (v === '') return '';
  if (!/^\d{8}/.test(v)) return '19000101';
  return shiftDate(v.slice(0, 8), days) + v.slice(8);
}

/**
 * The pseudonymous study key of `vigil predict` and the audit log: 'st-' + the 32 hex digits of the UUID
 * inside the de-identified Study Instance UID (`remapUid`). So a study key and the `2.25.` Study Instance
 * UID that `vigil deid` writes name the same study (BigInt('0x' + key.slice(3)) is the UID's decimal), with
 * the same site secret. An identifier that is already one of this site's 2.25 UIDs keys to itself.
 */
export function pseudonymousStudyKey(digest: KeyedDigest, studyIdentifier: string): string {
  const uid = remapUid(digest, studyIdentifier.trim() === '' ? 'no-study-instance-uid' : studyIdentifier);
  const decimal = /^2\.25\.(\d+)$/.exec(uid)?.[1] ?? '0';
  return 'st-' + BigInt(decimal).toString(16).padStart(32, '0');
}

/**
 * The lookup key of an Accession Number (0008,0050): 'acc-' + 32 hex digits of HMAC('accession-lookup',
 * the value without its padding). The Basic Profile empties the Accession Number (PS3.15 Table E.1-1,
 * action Z), so Vigil keeps only this key: a sender that knows its accession number finds its study, and
 * the key names nobody without the site secret. Undefined for an empty value.
 *
 * @example accessionLookupKey(digest, 'ACC12345 ') === accessionLookupKey(digest, 'ACC12345') // 'acc-3f…'
 */
export function accessionLookupKey(digest: KeyedDigest, accessionNumber: string): string | undefined {
  const value = accessionNumber.replace(/^[\0 ]+|[\0 ]+$/g, '');
  if (value === '') return undefined;
  return 'acc-' + hex(digest('accession-lookup', value), 16);
}
