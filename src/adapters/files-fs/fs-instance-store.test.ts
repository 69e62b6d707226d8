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

  it("lists a study's stored images of every kind, sorted, and nothing else kept beside them", async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(join(dir, 'objects'));
    await store.put('2.25.1', '2.25.12', new Uint8Array([1]), 'png');
    await store.put('2.25.1', '2.25.11', new Uint8Array([1]));
    await store.putPatientAge('2.25.1', '2.25.11', 3);
    await store.putDeclaration('2.25.1', { modality: 'CR' });
    const folder = store.studyLocation('2.25.1');
    expect(await store.listImages('2.25.1')).toEqual([join(folder, '2.25.11.dcm'), join(folder, '2.25.12.png')]);
    expect(await store.listImages('2.25.9')).toEqual([]);
  });

  it('stores an instance once when several stores on one folder (servers on a shared volume) put it at the same moment', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const stores = Array.from({ length: 8 }, () => new FsInstanceStore(join(dir, 'objects')));
    const sent = stores.map((_, i) => new Uint8Array(64 * 1024).fill(i + 1));
    const outcomes = await Promise.all(stores.map((store, i) => store.put('2.25.1', '2.25.11', sent[i] as Uint8Array)));
    expect(outcomes.filter((o) => o === 'stored')).toHaveLength(1);
    const winner = outcomes.indexOf('stored');
    const file = join(dir, 'objects', '2.25.1', '2.25.11.dcm');
    expect(readFileSync(file).equals(Buffer.from(sent[winner] as Uint8Array))).toBe(true);
    expect(readdirSync(join(dir, 'objects', '2.25.1'))).toEqual(['2.25.11.dcm']); // no temporary files left
  });

  it('reads free space once per second (one statfs shared by the calls meanwhile), creating the store folder if needed', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(join(dir, 'not-yet', 'objects'));
    const first = store.freeBytes();
    expect(store.freeBytes(), 'the same reading').toBe(first);
    expect(await first).toBeGreaterThan(0);
    expect(statSync(join(dir, 'not-yet', 'objects')).mode & 0o777).toBe(0o700);
    const uncached = new FsInstanceStore(join(dir, 'objects'), { freeSpaceCacheMs: 0 });
    const a = uncached.freeBytes();
    const b = uncached.freeBytes();
    expect(b, 'a new reading each call').not.toBe(a);
    await Promise.all([a, b]);
  });

  it("keeps each instance's patient age beside the study folder (not in it), owner-only, and reads them back by instance", async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(join(dir, 'objects'));
    expect(await store.readPatientAges('2.25.1')).toEqual(new Map());
    await Promise.all([store.putPatientAge('2.25.1', '2.25.11', 64), store.putPatientAge('2.25.1', '2.25.12', 3)]);
    await store.put('2.25.1', '2.25.11', new Uint8Array([1]));
    expect(await store.readPatientAges('2.25.1')).toEqual(
      new Map([
        ['2.25.11', 64],
        ['2.25.12', 3],
      ]),
    );
    expect(readdirSync(store.studyLocation('2.25.1'))).toEqual(['2.25.11.dcm']); // predict reads the study folder whole
    const file = join(dir, 'objects', '2.25.1.age', '2.25.11.json');
    expect(readFileSync(file, 'utf8')).toBe('{"patientAgeYears":64}\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(store.putPatientAge('2.25.1', '../x', 1)).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    await expect(store.putPatientAge('2.25.1', '2.25.13', 1.5)).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
  });

  it('refuses names that are not plain UIDs', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-instances-'));
    const store = new FsInstanceStore(dir);
    await expect(store.put('../etc', '2.25.1', new Uint8Array(1))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
    await expect(store.put('2.25.1', 'a/b', new Uint8Array(1))).rejects.toMatchObject({ code: 'STORE_WRITE_FAILED' });
  });
});
