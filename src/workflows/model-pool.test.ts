import { describe, expect, it } from 'vitest';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { ModelSession } from '../ports/model-runner.js';
import { ModelPool } from './model-pool.js';

/** A fake loader: each key a model of `size` bytes; records opens and closes. */
function loader(sizes: Record<string, number>, failOnce: Set<string> = new Set()) {
  const opened: string[] = [];
  const closed: string[] = [];
  const open = async (key: string) => {
    await Promise.resolve();
    if (failOnce.delete(key)) throw new Error(`cannot load ${key}`);
    opened.push(key);
    const bundle = {
      identity: { id: key, version: '1', sha256: '0'.repeat(64) },
      modelBytes: new Uint8Array(sizes[key] ?? 1),
      manifest: {},
    } as unknown as ModelBundle;
    const session: ModelSession = {
      executionProvider: 'cpu',
      run: () => Promise.reject(new Error('not run here')),
      close: () => {
        closed.push(key);
        return Promise.resolve();
      },
    };
    return { bundle, session };
  };
  return { open, opened, closed };
}

describe('ModelPool', () => {
  it('opens a model once for concurrent callers, and reports what it holds', async () => {
    const l = loader({ a: 100 });
    const pool = new ModelPool({ maxBytes: 1000, open: l.open });
    const [x, y] = await Promise.all([pool.acquire('a'), pool.acquire('a')]);
    expect(x.chain).toBe(y.chain);
    expect(l.opened).toEqual(['a']);
    expect(pool.stats()).toMatchObject({ maxBytes: 1000, bytes: 100, models: [{ key: 'a', bytes: 100, inUse: 2 }] });
    x.release();
    y.release();
    y.release(); // twice is once
    expect(pool.stats().models[0]?.inUse).toBe(0);
  });

  it('closes idle models, least recently used first, to stay within its bound, and never one in use', async () => {
    const l = loader({ a: 400, b: 400, c: 400 });
    const pool = new ModelPool({ maxBytes: 1000, open: l.open });
    const a = await pool.acquire('a');
    (await pool.acquire('b')).release();
    a.release();
    const c = await pool.acquire('c'); // 1,200 bytes: b (least recently used, idle) goes
    expect(l.closed).toEqual(['b']);
    expect(pool.stats().bytes).toBe(800);
    const a2 = await pool.acquire('a');
    const b2 = await pool.acquire('b'); // a and c are in use: over the bound until one is released
    expect(pool.stats().bytes).toBe(1200);
    expect(l.closed).toEqual(['b']);
    c.release();
    await Promise.resolve();
    await Promise.resolve();
    expect(l.closed).toEqual(['b', 'c']);
    a2.release();
    b2.release();
    await pool.close();
    expect(l.closed.sort()).toEqual(['a', 'b', 'b', 'c']);
  });

  it('forgets a model that failed to load, so the next caller tries again', async () => {
    const l = loader({ a: 10 }, new Set(['a']));
    const pool = new ModelPool({ maxBytes: 100, open: l.open });
    await expect(pool.acquire('a')).rejects.toThrow('cannot load a');
    await expect(pool.acquire('a')).resolves.toBeDefined();
    expect(l.opened).toEqual(['a']);
  });
});
