import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isValidSignature, startSignatureBatch, type SignatureBatchOptions } from './signature-batch.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

function heads(n: number, invalid: readonly number[] = []): { id: number; message: Buffer; signature: Buffer }[] {
  return Array.from({ length: n }, (_, i) => {
    const id = i + 1;
    const message = Buffer.from(`head ${id}`);
    const signature = sign(null, message, invalid.includes(id) ? other.privateKey : privateKey);
    return { id, message, signature };
  });
}

function run(items: ReturnType<typeof heads>, options: SignatureBatchOptions): { result: unknown; stoppedAt: number | undefined } {
  const batch = startSignatureBatch(privateKey, publicKey, options);
  let stoppedAt: number | undefined;
  for (const { id, message, signature } of items) {
    if (!batch.add(id, message, signature)) {
      stoppedAt = id;
      break;
    }
  }
  return { result: batch.finish(), stoppedAt };
}

const modes: [string, SignatureBatchOptions][] = [
  ['on the calling thread', { parallelAfter: Number.POSITIVE_INFINITY }],
  ['in a worker from the start', { parallelAfter: 0 }],
  ['in a worker after 1000', { parallelAfter: 1000 }],
];

describe.each(modes)('SignatureBatch %s', (_, options) => {
  it('finds nothing wrong with valid signatures', () => {
    expect(run(heads(3000), options).result).toEqual({ kind: 'valid' });
  });

  it('reports the first invalid signature and the id before it', () => {
    for (const invalid of [[1], [999, 2500], [1001], [2999, 3000]]) {
      expect(run(heads(3000, invalid), options).result, `invalid ${invalid.join(',')}`).toEqual({
        kind: 'invalid',
        invalidId: invalid[0],
        previousId: (invalid[0] as number) - 1,
      });
    }
  });

  it('handles an empty batch', () => {
    expect(run([], options).result).toEqual({ kind: 'valid' });
  });
});

describe('SignatureBatch', () => {
  it('on the calling thread, stops accepting at the first invalid signature', () => {
    expect(run(heads(50, [20, 30]), { parallelAfter: Number.POSITIVE_INFINITY }).stoppedAt).toBe(20);
  });

  it('reports incomplete when the worker cannot finish in time', () => {
    expect(run(heads(5000), { parallelAfter: 0, workerTimeoutMs: 0 }).result).toEqual({ kind: 'incomplete' });
  });
});

describe('isValidSignature', () => {
  const message = Buffer.from('m');
  it('accepts this key pair’s signature and rejects others, altered or truncated ones', () => {
    const signature = sign(null, message, privateKey);
    expect(isValidSignature(privateKey, publicKey, message, signature)).toBe(true);
    expect(isValidSignature(privateKey, publicKey, message, sign(null, message, other.privateKey))).toBe(false);
    expect(isValidSignature(privateKey, publicKey, Buffer.from('n'), signature)).toBe(false);
    expect(isValidSignature(privateKey, publicKey, message, signature.subarray(0, 10))).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[63] = (flipped[63] as number) ^ 0x80;
    expect(isValidSignature(privateKey, publicKey, message, flipped)).toBe(false);
  });
});
