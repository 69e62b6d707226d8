export interface Hasher {
  /** Lower-case hex SHA-256. */
  sha256Hex(data: Uint8Array | string): string;
}
