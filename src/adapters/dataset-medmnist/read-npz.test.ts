import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { readNpz } from './read-npz.js';

/** An .npy of `count` zero bytes, shape (count,): highly compressible, as a decompression bomb is. */
function npyOfZeros(count: number): Uint8Array {
  const header = `{'descr': '|u1', 'fortran_order': False, 'shape': (${count},), }`.padEnd(117, ' ') + '\n';
  const head = new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length, 0]);
  const out = new Uint8Array(head.length + header.length + count);
  out.set(head);
  out.set(new TextEncoder().encode(header), head.length);
  return out;
}

describe('readNpz', () => {
  it('reads the .npy members within the bound', () => {
    const arrays = readNpz(zipSync({ 'x.npy': npyOfZeros(1000) }, { level: 9 }), 10_000);
    expect(arrays.get('x')?.shape).toEqual([1000]);
  });

  it('refuses an archive whose members unpack past the bound, before inflating them (a 1 MB zip of 100 MB)', () => {
    const bomb = zipSync({ 'a.npy': npyOfZeros(50_000_000), 'b.npy': npyOfZeros(50_000_000) }, { level: 9 });
    expect(bomb.length).toBeLessThan(1_000_000);
    const before = process.memoryUsage().rss;
    expect(() => readNpz(bomb, 60_000_000)).toThrow(expect.objectContaining({ code: 'INPUT_TOO_LARGE', details: { maxBytes: 60_000_000 } }));
    expect(process.memoryUsage().rss - before).toBeLessThan(80 * 1024 ** 2);
  });
});
