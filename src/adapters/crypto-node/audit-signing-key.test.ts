import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPlatformError } from '../../domain/errors.js';
import { AUDIT_SIGNING_KEY_FILE, createAuditSigningKey, loadOrCreateAuditSigningKey } from './audit-signing-key.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-key-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return isPlatformError(error) ? error.code : 'not a PlatformError';
  }
  return 'no error';
}

const message = new TextEncoder().encode('vigil-tree-head:v1:1:00:2025-01-01T00:00:00.000Z');

describe('audit signing key', () => {
  it('is created owner-only on first use, as PEM private and public keys, and the same key loads again', () => {
    const dir = join(tempDir(), 'data');
    const created = loadOrCreateAuditSigningKey(dir, { allowCreate: true });
    const file = join(dir, AUDIT_SIGNING_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const pem = readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[\s\S]+-----END PRIVATE KEY-----\n-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    const loaded = loadOrCreateAuditSigningKey(dir, { allowCreate: false });
    expect(loaded.publicKeyBase64).toBe(created.publicKeyBase64);
    expect(loaded.verify(message, created.sign(message))).toBe(true);
  });

  it('is not created when creation is not allowed', () => {
    expect(codeOf(() => loadOrCreateAuditSigningKey(tempDir(), { allowCreate: false }))).toBe('STORE_OPEN_FAILED');
  });

  it('refuses a key file readable by others, a file that is not a key, a non-Ed25519 key, or a mismatched public half', () => {
    const dir = tempDir();
    loadOrCreateAuditSigningKey(dir, { allowCreate: true });
    const file = join(dir, AUDIT_SIGNING_KEY_FILE);
    const original = readFileSync(file, 'utf8');

    chmodSync(file, 0o644);
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: true }))).toBe('SECRET_INVALID');
    chmodSync(file, 0o600);

    writeFileSync(file, 'not a key');
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: true }))).toBe('SECRET_INVALID');

    writeFileSync(file, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: true }))).toBe('SECRET_INVALID');

    const otherPublic = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    writeFileSync(file, original.replace(/-----BEGIN PUBLIC KEY-----[\s\S]*$/, otherPublic));
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: true }))).toBe('SECRET_INVALID');

    writeFileSync(file, original);
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: false }))).toBe('no error');
  });

  it('accepts a private key alone', () => {
    const dir = tempDir();
    writeFileSync(join(dir, AUDIT_SIGNING_KEY_FILE), generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    expect(codeOf(() => loadOrCreateAuditSigningKey(dir, { allowCreate: false }))).toBe('no error');
  });

  it('verifies its own signatures and rejects altered ones, messages and other keys', () => {
    const key = createAuditSigningKey();
    const signature = key.sign(message);
    expect(signature).toHaveLength(64);
    expect(key.verify(message, signature)).toBe(true);
    const altered = Uint8Array.from(signature);
    altered[10] = (altered[10] as number) ^ 1;
    expect(key.verify(message, altered)).toBe(false);
    expect(key.verify(message, signature.subarray(0, 63))).toBe(false);
    expect(key.verify(new TextEncoder().encode('other'), signature)).toBe(false);
    expect(createAuditSigningKey().verify(message, signature)).toBe(false);
    expect(key.publicKeyBase64).not.toBe(createAuditSigningKey().publicKeyBase64);
  });

  it('refuses a private key that is not Ed25519', () => {
    expect(codeOf(() => createAuditSigningKey(generateKeyPairSync('ed448').privateKey))).toBe('SECRET_INVALID');
  });
});
