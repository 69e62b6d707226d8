/**
 * Authenticated encryption of small records at rest. `context` is bound to the ciphertext (associated
 * data): a sealed value opens only under the context it was sealed with, so rows cannot be swapped.
 */
export interface Sealer {
  seal(plaintext: Uint8Array, context: string): Uint8Array;
  /** Throws when the value was altered, sealed under another key or another context. */
  open(sealed: Uint8Array, context: string): Uint8Array;
}
