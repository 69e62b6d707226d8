/**
 * DEFLATE (RFC 1951, or RFC 1950 zlib-wrapped) inflated with a hard bound on its output, off the event
 * loop. zlib's stream runs on libuv's thread pool one chunk of output at a time; every chunk is counted as
 * it arrives and the inflation is stopped the moment the output would pass `maxBytes`, so a decompression
 * bomb costs at most `maxBytes` of memory and the time to produce them, never its full size. The one-shot
 * `inflateRawSync` this replaces held the event loop for the whole inflation (seconds for a gigabyte).
 *
 * zlib writes each chunk on the thread pool; the main thread only counts and keeps them, and joins them
 * once, at the end, only for an instance that is accepted (one copy: twice the output for a moment, and
 * about 0.1 s of the event loop per 100 MB); a refused bomb costs the event loop no copying at all. The
 * chunks are then freed at once (`release`), not left to a garbage collection that an idle server may not
 * run for minutes: memory goes back to where it was as soon as a bomb is refused.
 */
import { createInflate, createInflateRaw, type ZlibOptions } from 'node:zlib';

export type InflateOutcome =
  | { readonly kind: 'inflated'; readonly bytes: Uint8Array }
  | { readonly kind: 'too-large' }
  /** The stream is not valid DEFLATE (`truncated`: it ends before its last block). */
  | { readonly kind: 'invalid'; readonly truncated: boolean; readonly cause: unknown };

/**
 * Output per thread-pool task. Small for an inflation that may cost little. For one that may cost more
 * than 32 MiB, chunks just above 32 MiB: glibc's malloc serves smaller blocks from its heap once its mmap
 * threshold has risen (it rises to at most 32 MiB), and keeps memory freed inside the heap for reuse, so a
 * refused bomb of small chunks left the process over 100 MB larger; a block above 32 MiB is always
 * mapped, and unmapped the moment it is freed. One such task takes tens of milliseconds of a pool thread.
 */
const SMALL_CHUNK_BYTES = 256 * 1024;
const LARGE_CHUNK_BYTES = 32 * 1024 * 1024 + 4096;

/**
 * Inflations running at once in the process; the others wait their turn, first come first served. Each
 * may hold up to its limit while it runs, so this is what bounds concurrent senders: 64 associations each
 * sending a 1.5 MB bomb would otherwise hold 64 × 148 MB together. Two keep two cores' worth of zlib busy.
 */
const MAX_CONCURRENT_INFLATIONS = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function takeTurn(): Promise<void> {
  if (running < MAX_CONCURRENT_INFLATIONS) running += 1;
  // The finishing inflation hands its turn over (`running` unchanged).
  else await new Promise<void>((resolve) => waiting.push(resolve));
}

function endTurn(): void {
  const next = waiting.shift();
  if (next === undefined) running -= 1;
  else next();
}

/**
 * Inflates `deflated`, raw DEFLATE first and zlib-wrapped if that fails at once (a few writers wrap it).
 * Resolves, never rejects.
 */
export async function inflateAtMost(deflated: Uint8Array, maxBytes: number): Promise<InflateOutcome> {
  await takeTurn();
  try {
    const raw = await inflateStream(deflated, maxBytes, 'raw');
    if (raw.kind !== 'invalid') return raw;
    const wrapped = await inflateStream(deflated, maxBytes, 'zlib');
    // The raw attempt's error is the one to report when neither format fits.
    return wrapped.kind === 'invalid' ? raw : wrapped;
  } finally {
    endTurn();
  }
}

function inflateStream(deflated: Uint8Array, maxBytes: number, format: 'raw' | 'zlib'): Promise<InflateOutcome> {
  return new Promise((resolve) => {
    const options: ZlibOptions = { chunkSize: maxBytes > LARGE_CHUNK_BYTES ? LARGE_CHUNK_BYTES : SMALL_CHUNK_BYTES };
    const stream = format === 'raw' ? createInflateRaw(options) : createInflate(options);
    let chunks: Buffer[] = [];
    let length = 0;
    let settled = false;
    const settle = (outcome: InflateOutcome): void => {
      release(chunks);
      chunks = [];
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    stream.on('data', (chunk: Buffer) => {
      if (settled) return;
      length += chunk.length;
      if (length > maxBytes) {
        // Refused: stop the thread-pool work after its current chunk, and keep nothing.
        stream.destroy();
        settle({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    stream.on('error', (cause: NodeJS.ErrnoException) => {
      stream.destroy();
      settle({ kind: 'invalid', truncated: cause.code === 'Z_BUF_ERROR', cause });
    });
    stream.on('end', () => {
      if (settled) return;
      const bytes = Buffer.concat(chunks, length);
      settle({ kind: 'inflated', bytes });
    });
    stream.end(deflated);
  });
}

/**
 * Frees the chunks' memory now, by detaching their ArrayBuffers (`transfer(0)`, ES2024; the project's lib is
 * ES2023, hence the cast). Only a chunk that spans its whole ArrayBuffer: zlib filled that buffer and has
 * already moved on to a new one (it allocates one per full chunk, never pooled at this size), so nothing
 * else reads or writes it. A chunk sharing its buffer is left to the garbage collector.
 */
function release(chunks: readonly Buffer[]): void {
  for (const chunk of chunks) {
    const buffer = chunk.buffer as ArrayBuffer & { transfer?(length: number): ArrayBuffer };
    if (chunk.byteOffset !== 0 || chunk.byteLength !== buffer.byteLength || buffer.transfer === undefined) continue;
    try {
      buffer.transfer(0);
    } catch {
      // Not detachable (a buffer Node marked so): the garbage collector frees it instead.
    }
  }
}
