import { sign, verify, type KeyObject } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/**
 * Checks many Ed25519 signatures made by one key pair, in order, reporting the first invalid one.
 *
 * Why: `verify()` of the audit log checks one signature per entry (a signed tree head per append).
 * At 22 µs per check (see `isValidSignature`) that was ~45% of verifying 10^5 entries on one core.
 * After `parallelAfter` signatures have been checked on the calling thread, the rest go to a worker
 * thread and run alongside the caller's hashing. `add` and `finish` stay synchronous
 * (`Atomics.wait`), as the `AuditLog` port is.
 */
export interface SignatureBatch {
  /**
   * Queues a check of `signature` over `message`, labelled `id` (ids increase). Returns false once a
   * queued signature is known to be invalid, so the caller can stop early; true means "no failure
   * seen yet", not "valid" (the worker may not have got to it).
   */
  add(id: number, message: Uint8Array, signature: Uint8Array): boolean;
  /** Waits for every queued check. Call once. */
  finish(): SignatureBatchResult;
}

export type SignatureBatchResult =
  | { readonly kind: 'valid' }
  /** `previousId`: the id queued just before the invalid one, 0 if none. */
  | { readonly kind: 'invalid'; readonly invalidId: number; readonly previousId: number }
  /** The worker failed or timed out: nothing can be said; check again with `parallelAfter: Infinity`. */
  | { readonly kind: 'incomplete' };

export interface SignatureBatchOptions {
  /** Check this many on the calling thread before starting a worker (its start-up costs ~30 ms). */
  readonly parallelAfter?: number;
  /** Give up on the worker after this long. */
  readonly workerTimeoutMs?: number;
}

/**
 * Ed25519 signing is deterministic (RFC 8032 §5.1.6: the nonce is a hash of the key and the message),
 * so a signature this key made is byte-identical to signing the message again. Re-signing measured
 * 22 µs against 61 µs for a verification; a match proves validity, and any other bytes still get a
 * real verification. `WORKER_SOURCE` repeats this check; keep the two the same.
 */
export function isValidSignature(privateKey: KeyObject, publicKey: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (sign(null, message, privateKey).equals(signature)) return true;
  try {
    return verify(null, message, publicKey, signature);
  } catch {
    return false;
  }
}

export function startSignatureBatch(privateKey: KeyObject, publicKey: KeyObject, options: SignatureBatchOptions = {}): SignatureBatch {
  return new HybridSignatureBatch(privateKey, publicKey, options.parallelAfter ?? 2048, options.workerTimeoutMs ?? 600_000);
}

// Shared memory: Int32 [status, batchesDone, found], then Float64 [invalidId, previousId]. The caller
// always waits on the batchesDone slot, so the worker notifies that slot for every change.
const STATUS = 0;
const BATCHES_DONE = 1;
const FOUND = 2;
const RUNNING = 0;
const DONE = 1;
const FAILED = 2;
const BATCH_SIZE = 1024;
/** Batches queued ahead of the worker before `add` waits for it: bounds memory on huge logs. */
const MAX_BATCHES_IN_FLIGHT = 16;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign, verify } = require('node:crypto');
const { privateKey, publicKey, shared } = workerData;
const flags = new Int32Array(shared, 0, 3);
const ids = new Float64Array(shared, 16, 2);
let previousId = workerData.previousId;
const isValid = (message, signature) => {
  if (sign(null, message, privateKey).equals(signature)) return true;
  try { return verify(null, message, publicKey, signature); } catch { return false; }
};
const finish = (status) => { Atomics.store(flags, ${STATUS}, status); Atomics.notify(flags, ${BATCHES_DONE}); };
parentPort.on('message', (batch) => {
  try {
    if (batch === 'end') return finish(${DONE});
    if (Atomics.load(flags, ${FOUND}) === 0) {
      for (let i = 0; i < batch.ids.length; i++) {
        if (!isValid(batch.messages[i], batch.signatures[i])) {
          ids[0] = batch.ids[i];
          ids[1] = previousId;
          Atomics.store(flags, ${FOUND}, 1);
          break;
        }
        previousId = batch.ids[i];
      }
    }
    Atomics.add(flags, ${BATCHES_DONE}, 1);
    Atomics.notify(flags, ${BATCHES_DONE});
  } catch {
    finish(${FAILED});
  }
});
`;

interface Pending {
  readonly id: number;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

interface RunningWorker {
  readonly worker: Worker;
  readonly flags: Int32Array;
  readonly ids: Float64Array;
  batchesSent: number;
}

class HybridSignatureBatch implements SignatureBatch {
  #checkedHere = 0;
  #previousId = 0;
  #invalid: { kind: 'invalid'; invalidId: number; previousId: number } | undefined;
  #noWorker = false;
  #worker: RunningWorker | undefined;
  #batch: Pending[] = [];
  readonly #deadline: number;

  constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    private readonly parallelAfter: number,
    workerTimeoutMs: number,
  ) {
    this.#deadline = performance.now() + workerTimeoutMs;
  }

  add(id: number, message: Uint8Array, signature: Uint8Array): boolean {
    if (this.#invalid !== undefined) return false;
    if (this.#worker === undefined && !this.#noWorker && this.#checkedHere >= this.parallelAfter) this.#worker = this.#startWorker();
    const running = this.#worker;
    if (running === undefined) {
      this.#checkedHere++;
      if (!isValidSignature(this.privateKey, this.publicKey, message, signature)) {
        this.#invalid = { kind: 'invalid', invalidId: id, previousId: this.#previousId };
        return false;
      }
      this.#previousId = id;
      return true;
    }
    this.#batch.push({ id, message, signature });
    if (this.#batch.length >= BATCH_SIZE) this.#flush(running);
    return Atomics.load(running.flags, FOUND) === 0;
  }

  finish(): SignatureBatchResult {
    const running = this.#worker;
    if (running === undefined) return this.#invalid ?? { kind: 'valid' };
    this.#flush(running);
    running.worker.postMessage('end');
    const status = this.#waitFor(running, () => Atomics.load(running.flags, STATUS) !== RUNNING);
    void running.worker.terminate();
    if (status && Atomics.load(running.flags, STATUS) === DONE) {
      if (Atomics.load(running.flags, FOUND) === 0) return { kind: 'valid' };
      return { kind: 'invalid', invalidId: running.ids[0] as number, previousId: running.ids[1] as number };
    }
    return { kind: 'incomplete' };
  }

  #startWorker(): RunningWorker | undefined {
    try {
      const shared = new SharedArrayBuffer(16 + 2 * 8);
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { privateKey: this.privateKey, publicKey: this.publicKey, shared, previousId: this.#previousId },
      });
      worker.unref();
      // Failures reach the caller through the shared status (or the timeout); this only keeps an
      // 'error' event from becoming an uncaught exception.
      worker.on('error', () => undefined);
      return { worker, flags: new Int32Array(shared, 0, 3), ids: new Float64Array(shared, 16, 2), batchesSent: 0 };
    } catch {
      // No worker threads here (e.g. resource limits): stay on this thread.
      this.#noWorker = true;
      return undefined;
    }
  }

  #flush(running: RunningWorker): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    running.worker.postMessage({ ids: batch.map((b) => b.id), messages: batch.map((b) => b.message), signatures: batch.map((b) => b.signature) });
    running.batchesSent++;
    this.#waitFor(
      running,
      () => running.batchesSent - Atomics.load(running.flags, BATCHES_DONE) <= MAX_BATCHES_IN_FLIGHT || Atomics.load(running.flags, STATUS) !== RUNNING,
    );
  }

  /** Blocks until `done()` or the deadline; false on timeout. Woken by the worker's notify, polled every 100 ms regardless. */
  #waitFor(running: RunningWorker, done: () => boolean): boolean {
    while (!done()) {
      if (performance.now() > this.#deadline) return false;
      Atomics.wait(running.flags, BATCHES_DONE, Atomics.load(running.flags, BATCHES_DONE), 100);
    }
    return true;
  }
}
