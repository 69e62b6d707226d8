import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { Writable } from 'node:stream';

/**
 * Where one received data set goes while it arrives: memory, up to `maxInMemoryBytes`, then a file (created
 * owner-only, exclusively, at `spillPath()`) holding everything received so far and the rest. Most
 * instances are far smaller than the limit, and for them this saves a write, a read and a delete of a file
 * per instance (and leaves no received bytes on disk at all); the limit bounds memory for the large ones.
 * The bytes are kept exactly as written.
 */
export class SpillableSink extends Writable {
  readonly #maxInMemoryBytes: number;
  readonly #spillPath: () => string;
  #chunks: Buffer[] = [];
  #size = 0;
  #file: WriteStream | undefined;
  #path: string | undefined;

  /** `highWaterMark`: how much may wait for the spill file before `write` asks the writer to wait for 'drain'. */
  constructor(options: { readonly maxInMemoryBytes: number; readonly spillPath: () => string; readonly highWaterMark: number }) {
    super({ highWaterMark: options.highWaterMark });
    this.#maxInMemoryBytes = options.maxInMemoryBytes;
    this.#spillPath = options.spillPath;
  }

  /** Bytes received so far. */
  get size(): number {
    return this.#size;
  }

  /** Whether the bytes went to a file (for tests and for cleaning up). */
  get spilled(): boolean {
    return this.#path !== undefined;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#size += chunk.length;
    if (this.#file === undefined && this.#size <= this.#maxInMemoryBytes) {
      this.#chunks.push(chunk);
      callback();
      return;
    }
    const file = this.#file ?? this.#spill();
    file.write(chunk, (error) => callback(error ?? null));
  }

  override _final(callback: (error?: Error | null) => void): void {
    const file = this.#file;
    if (file === undefined) {
      callback();
      return;
    }
    file.end();
    file.once('close', () => callback(file.errored ?? null));
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const file = this.#file;
    if (file === undefined || file.closed) {
      callback(error);
      return;
    }
    file.once('close', () => callback(error));
    file.destroy();
  }

  /** Everything received, once the sink has finished. */
  async bytes(): Promise<Buffer> {
    if (this.#path !== undefined) return readFile(this.#path);
    return Buffer.concat(this.#chunks, this.#size);
  }

  /** Deletes the spill file, if any, and lets go of the memory; safe to call more than once. */
  async discard(): Promise<void> {
    this.#chunks = [];
    const path = this.#path;
    if (path !== undefined) await unlink(path).catch(() => undefined);
  }

  #spill(): WriteStream {
    const path = this.#spillPath();
    const file = createWriteStream(path, { flags: 'wx', mode: 0o600, highWaterMark: this.writableHighWaterMark });
    // Errors reach the writer through the write callbacks; this listener only keeps them from being unhandled.
    file.on('error', () => undefined);
    this.#file = file;
    this.#path = path;
    for (const chunk of this.#chunks) file.write(chunk);
    this.#chunks = [];
    return file;
  }
}
