import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpillableSink } from './spillable-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fill(sink: SpillableSink, chunks: readonly Buffer[]): Promise<void> {
  for (const chunk of chunks) sink.write(chunk);
  sink.end();
  await new Promise((resolve) => sink.once('close', resolve));
}

const chunks = [Buffer.alloc(300, 1), Buffer.alloc(500, 2), Buffer.alloc(700, 3)];

describe('SpillableSink', () => {
  it('keeps an instance within the limit in memory, byte for byte, and writes nothing to disk', async () => {
    const sink = new SpillableSink({ maxInMemoryBytes: 1500, spillPath: () => join(dir, 'never.part'), highWaterMark: 1 << 20 });
    await fill(sink, chunks);
    expect(sink.spilled).toBe(false);
    expect(sink.size).toBe(1500);
    expect(Buffer.from(await sink.bytes()).equals(Buffer.concat(chunks))).toBe(true);
    expect(existsSync(join(dir, 'never.part'))).toBe(false);
  });

  it('moves to an owner-only file once past the limit, keeps every byte in order, and deletes the file on discard', async () => {
    const path = join(dir, 'spill.part');
    const sink = new SpillableSink({ maxInMemoryBytes: 1000, spillPath: () => path, highWaterMark: 1 << 20 });
    await fill(sink, chunks);
    expect(sink.spilled).toBe(true);
    expect(Buffer.from(await sink.bytes()).equals(Buffer.concat(chunks))).toBe(true);
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await sink.discard();
    expect(readdirSync(dir)).not.toContain('spill.part');
  });

  it('reports a spill file it cannot create as a stream error', async () => {
    const sink = new SpillableSink({ maxInMemoryBytes: 0, spillPath: () => join(dir, 'missing-folder', 'x.part'), highWaterMark: 1 << 20 });
    const error = new Promise<NodeJS.ErrnoException>((resolve) => sink.once('error', resolve));
    sink.write(Buffer.alloc(10));
    sink.end();
    expect((await error).code).toBe('ENOENT');
  });
});
