import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { formatTreeHeadSigningInput } from '../../domain/audit/audit-leaf.js';
import type { SignedTreeHead } from '../../ports/audit-log.js';
import { verifyTreeHeadSignature } from './verify-tree-head.js';

function signedHead(keys = generateKeyPairSync('ed25519')): SignedTreeHead {
  const head = { treeSize: 7, rootHash: 'ab'.repeat(32), time: '2025-01-01T00:00:00.000Z' };
  return {
    ...head,
    signature: sign(null, Buffer.from(formatTreeHeadSigningInput(head.treeSize, head.rootHash, head.time)), keys.privateKey).toString('base64'),
    publicKey: keys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

describe('verifyTreeHeadSignature', () => {
  it('accepts a genuine head, against its own key and against the trusted key', () => {
    const head = signedHead();
    expect(verifyTreeHeadSignature(head)).toBe(true);
    expect(verifyTreeHeadSignature(head, head.publicKey)).toBe(true);
  });

  it('rejects any change to the signed fields', () => {
    const head = signedHead();
    expect(verifyTreeHeadSignature({ ...head, treeSize: 8 })).toBe(false);
    expect(verifyTreeHeadSignature({ ...head, rootHash: 'cd'.repeat(32) })).toBe(false);
    expect(verifyTreeHeadSignature({ ...head, time: '2025-01-01T00:00:00.001Z' })).toBe(false);
  });

  it('rejects a head signed by a key other than the trusted one, even if it carries that key', () => {
    const trusted = signedHead().publicKey;
    const forged = signedHead();
    expect(verifyTreeHeadSignature(forged)).toBe(true);
    expect(verifyTreeHeadSignature(forged, trusted)).toBe(false);
  });

  it('is false, not an exception, for malformed keys and signatures', () => {
    const head = signedHead();
    expect(verifyTreeHeadSignature({ ...head, signature: 'not base64!' })).toBe(false);
    expect(verifyTreeHeadSignature({ ...head, publicKey: 'AAAA' })).toBe(false);
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    expect(verifyTreeHeadSignature(head, p256)).toBe(false);
  });
});
