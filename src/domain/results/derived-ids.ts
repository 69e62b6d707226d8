/**
 * Identifiers derived from names by a hash, so that the same name always gives the same id (a result
 * re-sent after a crash keeps its UIDs). The hash is passed in: lower-case hex SHA-256.
 */

/** How result documents name themselves: ids derived from names. */
export interface ResultIds {
  /** A 2.25 UID (PS3.5 B.2) from a hash of `name`. */
  readonly uidOf: (name: string) => string;
  /** An RFC 9562 UUID from a hash of `name`. */
  readonly uuidOf: (name: string) => string;
}

/** PS3.5 B.2: a UID under 2.25 is the decimal of 128 bits; here the first 128 bits (32 hex digits) of `hex`. */
export function uid225(hex: string): string {
  return `2.25.${BigInt('0x' + hex.slice(0, 32)).toString()}`;
}

/**
 * RFC 9562 section 5.8: a version 8 UUID from the first 128 bits of `hex`, with the version nibble set
 * to 8 and the variant bits to 10.
 */
export function uuidV8(hex: string): string {
  const variant = ((Number.parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** Ids derived from names by `sha256Hex`: 2.25 UIDs, and RFC 9562 version 8 UUIDs. */
export function derivedResultIds(sha256Hex: (text: string) => string): ResultIds {
  return {
    uidOf: (name) => uid225(sha256Hex(name)),
    uuidOf: (name) => uuidV8(sha256Hex(name)),
  };
}
