import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runVigil } from '../helpers/run-vigil.js';

/**
 * A command given a directory (or a missing file) where it takes a file answers as every command that takes
 * a file does (files-fs/read-bounded-file.ts): coded, exit 11, the file named by what it is — never
 * INTERNAL (70).
 */
const dir = mkdtempSync(join(tmpdir(), 'vigil-verify-files-'));
const dataDir = join(dir, 'data');
const key = join(dir, 'audit.pem');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  // A reader's machine: no data folder of its own, the installation's published key.
  writeFileSync(key, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
});

describe('vigil release verify <not a pack file>', () => {
  it('a directory: INPUT_UNREADABLE, exit 11', async () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    const run = await runVigil(['release', 'verify', folder, '--public-key', key], dataDir);
    expect([run.code, run.stderr]).toEqual([11, 'vigil: INPUT_UNREADABLE: The evidence pack file is a directory: give a file\n']);
  });

  it('a missing file: INPUT_NOT_FOUND, exit 11; a directory as the public key: INPUT_UNREADABLE', async () => {
    const missing = await runVigil(['release', 'verify', join(dir, 'none.zip'), '--public-key', key], dataDir);
    expect([missing.code, missing.stderr]).toEqual([11, 'vigil: INPUT_NOT_FOUND: The evidence pack file does not exist\n']);
    const keyFolder = await runVigil(['release', 'verify', join(dir, 'none.zip'), '--public-key', dir], dataDir);
    expect([keyFolder.code, keyFolder.stderr]).toEqual([11, 'vigil: INPUT_UNREADABLE: The public key file is a directory: give a file\n']);
  });

  it('a site secret file that is a directory (vigil deid --secret-file), owner-only: SECRET_INVALID, not INTERNAL', async () => {
    const secretFolder = join(dir, 'secret-folder');
    mkdirSync(secretFolder, { mode: 0o700 });
    const run = await runVigil(['deid', dir, '--out', join(dir, 'deid-out'), '--secret-file', secretFolder], dataDir);
    expect(run.stderr).toBe('vigil: SECRET_INVALID: The site secret file is a directory: give a file\n');
    expect(run.code).not.toBe(70);
  });

  it('a password file that is a directory (vigil users set-password --password-file): INPUT_UNREADABLE, not INTERNAL', async () => {
    const created = await runVigil(['users', 'token', '--user', 'pat', '--role', 'qa-regulatory', '--label', 'x'], dataDir);
    expect(created.code).toBe(0);
    const run = await runVigil(['users', 'set-password', '--user', 'pat', '--password-file', dir], dataDir);
    expect([run.code, run.stderr]).toEqual([11, 'vigil: INPUT_UNREADABLE: The password file is a directory: give a file\n']);
  });
});
