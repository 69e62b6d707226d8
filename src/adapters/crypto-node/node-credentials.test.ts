import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRYPT, NodeCredentials } from './node-credentials.js';

// Small parameters keep the suite fast; one test runs the production default.
const fast = new NodeCredentials({ N: 2 ** 10, r: 8, p: 1 });

describe('NodeCredentials', () => {
  it('hashes with the production scrypt parameters and verifies only the right password', async () => {
    const credentials = new NodeCredentials();
    const encoded = await credentials.hashPassword('correct horse battery');
    expect(encoded).toMatch(new RegExp(`^scrypt\\$${DEFAULT_SCRYPT.N}\\$8\\$2\\$[A-Za-z0-9+/=]{24}\\$[A-Za-z0-9+/=]{44}$`));
    expect(await credentials.verifyPassword('correct horse battery', encoded)).toBe(true);
    expect(await credentials.verifyPassword('correct horse batterY', encoded)).toBe(false);
  });

  it('salts each hash, so the same password hashes differently', async () => {
    const a = await fast.hashPassword('the same password');
    const b = await fast.hashPassword('the same password');
    expect(a).not.toBe(b);
    expect(await fast.verifyPassword('the same password', a)).toBe(true);
    expect(await fast.verifyPassword('the same password', b)).toBe(true);
  });

  it('verifies with the parameters stored in the hash, not its own', async () => {
    const old = await fast.hashPassword('kept from before');
    expect(await new NodeCredentials({ N: 2 ** 12, r: 8, p: 1 }).verifyPassword('kept from before', old)).toBe(true);
  });

  it('treats Unicode compositions of one password alike (NFC)', async () => {
    const encoded = await fast.hashPassword('caf\u00e9 au lait, please');
    expect(await fast.verifyPassword('cafe\u0301 au lait, please', encoded)).toBe(true);
  });

  it('rejects malformed or abusive stored hashes instead of throwing', async () => {
    const good = await fast.hashPassword('some password!');
    for (const bad of ['', 'plain', good.replace('scrypt$', 'bcrypt$'), good.replace(/\$1024\$/, '$1000$'), good.replace(/\$1024\$/, `$${2 ** 24}$`)]) {
      expect(await fast.verifyPassword('some password!', bad), bad).toBe(false);
    }
  });

  it('makes 256-bit secrets, SHA-256 digests and constant-time comparisons', () => {
    const secret = fast.newSecret();
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(fast.newSecret()).not.toBe(secret);
    expect(Buffer.from(fast.digest('abc')).toString('hex')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(fast.equal('same', 'same')).toBe(true);
    expect(fast.equal('same', 'sane')).toBe(false);
    expect(fast.equal('same', 'same!')).toBe(false);
  });
});
