import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FolderSyncer } from './folder-syncer.js';
import { writeFileDurably } from './write-file-durably.js';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** A syncer whose fsyncs the test finishes by hand, recording which folder each one was for. */
function manualSyncer(): { syncer: FolderSyncer; started: string[]; finish: (error?: Error) => void } {
  const started: string[] = [];
  const open: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const syncer = new FolderSyncer(
    (folder) =>
      new Promise<void>((resolve, reject) => {
        started.push(folder);
        open.push({ resolve, reject });
      }),
  );
  return {
    syncer,
    started,
    finish: (error) => {
      const next = open.shift();
      if (error === undefined) next?.resolve();
      else next?.reject(error);
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('FolderSyncer', () => {
  it('answers a caller only with an fsync that started after its call, and shares that fsync among the callers waiting for it', async () => {
    const { syncer, started, finish } = manualSyncer();
    const answered: string[] = [];
    void syncer.sync('/a').then(() => answered.push('first'));
    await tick();
    // These arrive while the first fsync runs: it may have started before their renames.
    const later = ['second', 'third', 'fourth'].map((name) => syncer.sync('/a').then(() => answered.push(name)));
    await tick();
    expect(started).toEqual(['/a']);
    finish();
    await tick();
    expect(answered).toEqual(['first']);
    expect(started, 'one more fsync serves the three that waited').toEqual(['/a', '/a']);
    finish();
    await Promise.all(later);
    expect(answered).toEqual(['first', 'second', 'third', 'fourth']);
  });

  it('runs fsyncs of different folders independently, and gives a failed fsync’s error to its callers only', async () => {
    const { syncer, started, finish } = manualSyncer();
    const a = syncer.sync('/a');
    const b = syncer.sync('/b');
    await tick();
    expect(started).toEqual(['/a', '/b']);
    finish(new Error('EIO'));
    finish();
    await expect(a).rejects.toThrow('EIO');
    await expect(b).resolves.toBeUndefined();
    const again = syncer.sync('/a');
    await tick();
    finish();
    await expect(again, 'the next call gets a fresh fsync').resolves.toBeUndefined();
  });

  it('fsyncs the parent of every folder it creates, once per folder, and of a folder that was already there', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-folder-syncer-'));
    const synced: string[] = [];
    const syncer = new FolderSyncer((folder) => {
      synced.push(folder);
      return Promise.resolve();
    });
    const study = join(dir, 'objects', '2.25.1');
    await Promise.all([syncer.ensure(study), syncer.ensure(study)]);
    expect(statSync(study).mode & 0o777).toBe(0o700);
    expect(synced.sort()).toEqual([dir, join(dir, 'objects')].sort());
    await syncer.ensure(study);
    expect(synced, 'done once per folder').toHaveLength(2);
    await new FolderSyncer((folder) => {
      synced.push(folder);
      return Promise.resolve();
    }).ensure(study);
    expect(synced.at(-1), 'a folder found already there: its parent once').toBe(join(dir, 'objects'));
  });

  it('makes writeFileDurably fsync the new folders’ parents and then the folder after the rename', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-folder-syncer-'));
    const synced: string[] = [];
    const folders = new FolderSyncer((folder) => {
      synced.push(folder);
      return Promise.resolve();
    });
    const study = join(dir, 'objects', '2.25.1');
    await writeFileDurably(join(study, '2.25.11.dcm'), new Uint8Array([1]), { replace: false, folders });
    expect(synced).toHaveLength(3);
    expect(new Set(synced.slice(0, 2))).toEqual(new Set([dir, join(dir, 'objects')]));
    expect(synced[2]).toBe(study);
    // A folder removed behind the store's back is made again.
    rmSync(study, { recursive: true });
    await writeFileDurably(join(study, '2.25.12.dcm'), new Uint8Array([2]), { replace: false, folders });
    expect(statSync(join(study, '2.25.12.dcm')).size).toBe(1);
  });
});
