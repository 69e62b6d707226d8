/** Secrets for dashboard sign-in: slow salted password hashes, and random session secrets. */
export interface Credentials {
  /** A self-describing salted hash (algorithm and parameters included, so they can be raised later). */
  hashPassword(password: string): Promise<string>;
  /** Checks a password against `hashPassword`'s output in constant time; false for a malformed hash. */
  verifyPassword(password: string, encoded: string): Promise<boolean>;
  /** A fresh 256-bit random secret, base64url (43 characters). */
  newSecret(): string;
  /** SHA-256 of a secret or key; sessions and rate-limit keys are stored only as this. */
  digest(text: string): Uint8Array;
  /** Constant-time equality of two strings (false when their lengths differ). */
  equal(a: string, b: string): boolean;
}
