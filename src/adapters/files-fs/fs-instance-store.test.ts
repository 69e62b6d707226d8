import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsInstanceStore } from './fs-instance-store.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('FsInstanceStore', () => {
  it('stores once, owner-only, under pseudonymous names, and reports duplicates', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(join(dir, 'objects'));
    expect(await store.put('2.25.1', '2.25.11', new Uint8Array([1, 2, 3]))).toBe('stored');
    expect(await store.put('2.25.1', '2.25.11', new Uint8Array([9]))).toBe('duplicate');
    const file = join(store.studyLocation('2.25.1'), '2.25.11.dcm');
    expect([...readFileSync(file)]).toEqual([1, 2, 3]);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(store.studyLocation('2.25.1'))).toEqual(['2.25.11.dcm']); // no partial files left
    expect(await store.freeBytes()).toBeGreaterThan(0);
  });

  it('refuses names that are not plain UIDs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(dir);
    await expect(store.put('../etc', '2.25.1', new Uint8Array(1))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    await expect(store.put('2.25.1', 'a/b', new Uint8Array(1))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
  });
});
