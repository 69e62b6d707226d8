import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Credentials } from '../../ports/credentials.js';

export interface ScryptParameters {
  /** CPU/memory cost, a power of two. */
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * OWASP Password Storage Cheat Sheet (2023) lists equal-strength scrypt settings; N=2^16, r=8, p=2
 * needs 64 MiB per hash (half of N=2^17, p=1) and took 0.26 s here on one core. Stored with each
 * hash, so a later raise leaves old hashes verifiable.
 */
export const DEFAULT_SCRYPT: ScryptParameters = { N: 2 ** 16, r: 8, p: 2 };

const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** `scrypt$<N>$<r>$<p>$<salt b64>$<key b64>` */
const ENCODED = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;
/** Refuse stored parameters that would take minutes or gigabytes (a tampered row must not stall the server). */
const MAX_N = 2 ** 20;
const MAX_RP = 64;

function derive(password: string, salt: Buffer, keyBytes: number, parameters: ScryptParameters): Promise<Buffer> {
  // Node refuses 128·N·r bytes above maxmem (32 MiB by default); leave headroom over the need.
  const options: ScryptOptions = { N: parameters.N, r: parameters.r, p: parameters.p, maxmem: 128 * parameters.N * parameters.r * 2 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFC'), salt, keyBytes, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Credentials with node:crypto: scrypt for passwords (no native dependency), SHA-256 for secrets. */
export class NodeCredentials implements Credentials {
  constructor(private readonly parameters: ScryptParameters = DEFAULT_SCRYPT) {}

  async hashPassword(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, KEY_BYTES, this.parameters);
    const { N, r, p } = this.parameters;
    return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  async verifyPassword(password: string, encoded: string): Promise<boolean> {
    const match = ENCODED.exec(encoded);
    if (match === null) return false;
    const [N, r, p] = [Number(match[1]), Number(match[2]), Number(match[3])];
    if (N < 2 || N > MAX_N || (N & (N - 1)) !== 0 || r < 1 || r > MAX_RP || p < 1 || p > MAX_RP) return false;
    const salt = Buffer.from(match[4] as string, 'base64');
    const expected = Buffer.from(match[5] as string, 'base64');
    if (expected.length < 16) return false;
    const actual = await derive(password, salt, expected.length, { N, r, p });
    return timingSafeEqual(actual, expected);
  }

  newSecret(): string {
    return randomBytes(32).toString('base64url');
  }

  digest(text: string): Uint8Array {
    return createHash('sha256').update(text, 'utf8').digest();
  }

  equal(a: string, b: string): boolean {
    const left = Buffer.from(a, 'utf8');
    const right = Buffer.from(b, 'utf8');
    // timingSafeEqual needs equal lengths; comparing against itself keeps the time independent of `a`.
    return left.length === right.length ? timingSafeEqual(left, right) : !timingSafeEqual(right, right);
  }
}
