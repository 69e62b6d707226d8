import { deflateRawSync, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { inflateAtMost } from './bounded-inflate.js';
import { deflatedBomb } from './test-builders.js';

/** Text that deflates about 3:1, like a DICOM header. */
const text = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `element ${i * 7919} value ${(i * 104_729) % 1000}\n`).join(''));

describe('inflateAtMost', () => {
  it('inflates raw and zlib-wrapped DEFLATE to the same bytes, padded or not', async () => {
    for (const deflated of [deflateRawSync(text), deflateSync(text), Buffer.concat([deflateRawSync(text), Buffer.of(0)])]) {
      const outcome = await inflateAtMost(deflated, text.length);
      expect(outcome.kind).toBe('inflated');
      if (outcome.kind === 'inflated') expect(Buffer.from(outcome.bytes).equals(text)).toBe(true);
    }
  });

  it('allows exactly the limit and refuses one byte more', async () => {
    const deflated = deflateRawSync(text);
    expect((await inflateAtMost(deflated, text.length)).kind).toBe('inflated');
    expect(await inflateAtMost(deflated, text.length - 1)).toEqual({ kind: 'too-large' });
  });

  it('tells a stream that ends early from one that is not DEFLATE', async () => {
    const deflated = deflateRawSync(text);
    expect(await inflateAtMost(deflated.subarray(0, deflated.length >> 1), 1 << 24)).toMatchObject({ kind: 'invalid', truncated: true });
    expect(await inflateAtMost(new Uint8Array(0), 1 << 24)).toMatchObject({ kind: 'invalid', truncated: true });
    // 'g' (0x67) opens a block of the reserved type 3 (RFC 1951 3.2.3).
    expect(await inflateAtMost(Buffer.from('garbage, not DEFLATE'), 1 << 24)).toMatchObject({ kind: 'invalid', truncated: false });
  });

  it('stops a bomb at the limit, off the event loop', async () => {
    // 1 GiB of zeros in about 1 MB; refused at 64 MiB. The inflation used to be one synchronous call
    // that held the event loop throughout and allocated the whole gigabyte.
    const bomb = deflatedBomb(1024 ** 3);
    const deflated = bomb.subarray(datasetStart(bomb));
    expect(deflated.length).toBeLessThan(1_100_000);
    let ticks = 0;
    let peakRss = process.memoryUsage.rss();
    const before = peakRss;
    const timer = setInterval(() => {
      ticks += 1;
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
    }, 5);
    const started = performance.now();
    const outcome = await inflateAtMost(deflated, 64 * 1024 ** 2);
    const elapsedMs = performance.now() - started;
    clearInterval(timer);
    expect(outcome).toEqual({ kind: 'too-large' });
    // The event loop kept turning while zlib worked on the thread pool (a synchronous inflation: 0 ticks).
    expect(ticks, `timer ticks in ${elapsedMs.toFixed(0)} ms`).toBeGreaterThanOrEqual(3);
    // About the limit was produced and held, never the gigabyte (allowing for the buffer doubling once and
    // for the garbage zlib's chunks leave until the next collection).
    expect(peakRss - before, 'peak resident growth').toBeLessThan(400 * 1024 ** 2);
  });

  it('runs two inflations at a time, so concurrent bombs hold two limits, not one each', async () => {
    const bomb = deflatedBomb(512 * 1024 ** 2);
    const deflated = bomb.subarray(datasetStart(bomb));
    const limit = 96 * 1024 ** 2;
    const before = process.memoryUsage.rss();
    let peakRss = before;
    const timer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 2);
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => inflateAtMost(deflated, limit)));
    clearInterval(timer);
    expect(outcomes).toEqual(Array.from({ length: 6 }, () => ({ kind: 'too-large' })));
    // Six at once would hold 6 × 96 MiB; two at a time about 2 × (96 + 32) MiB at most.
    expect(peakRss - before, 'peak resident growth').toBeLessThan(330 * 1024 ** 2);
    // And the turns are all given back: one more runs at once.
    expect((await inflateAtMost(deflateRawSync(text), text.length)).kind).toBe('inflated');
  });
});

/** Where a Part 10 file's dataset starts: after the meta group, whose length (0002,0000) follows "DICM". */
function datasetStart(file: Uint8Array): number {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  return 144 + view.getUint32(140, true);
}
