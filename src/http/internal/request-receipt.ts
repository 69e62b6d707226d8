import { Transform, type TransformCallback } from 'node:stream';

/**
 * How long the server waits for a request to arrive. Headers are Node's (`headersTimeout`, a deadline
 * from the request's first byte); a body is bounded here, by two rules checked as it is read:
 *
 * - idle: no byte for `idleTimeoutMs` (a client that sends its headers and stalls);
 * - rate: the body starts with `bodyTimeoutMs` of allowance and earns one second more for every
 *   `bodyMinBytesPerSecond` bytes received, never more than `bodyTimeoutMs` ahead of now. A body is cut
 *   when its allowance runs out: a client trickling a byte every few seconds is closed after about
 *   `bodyTimeoutMs`, while one that keeps at least the minimum rate (averaged over `bodyTimeoutMs`) never
 *   is, however long its body. So no request takes longer than `bodyTimeoutMs + limit / rate`, and the
 *   limit is the route's own (512 MiB at 4 KiB/s: about 36 hours for the largest upload on the slowest link,
 *   16 KiB of JSON: 64 seconds).
 *
 * The rate rule is Apache's mod_reqtimeout (`body=…,MinRate=…`) with its credit capped, so that a fast
 * start does not buy hours of trickling afterwards.
 */
export interface ReceiveLimits {
  readonly headersTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  readonly bodyMinBytesPerSecond: number;
}

/** Where a body's receipt stands: times in milliseconds on one monotonic clock. */
export interface ReceiptState {
  readonly lastByteAtMs: number;
  /** When the body's allowance runs out, unless more bytes arrive. */
  readonly deadlineMs: number;
}

/** A body whose first byte is still to come, at `nowMs`. */
export function startReceipt(nowMs: number, limits: ReceiveLimits): ReceiptState {
  return { lastByteAtMs: nowMs, deadlineMs: nowMs + limits.bodyTimeoutMs };
}

/** `bytes` more arrived at `nowMs`: the allowance grows by their time at the minimum rate, capped `bodyTimeoutMs` ahead. */
export function receiveBytes(state: ReceiptState, bytes: number, nowMs: number, limits: ReceiveLimits): ReceiptState {
  if (bytes <= 0) return state;
  const earned = state.deadlineMs + (bytes * 1000) / limits.bodyMinBytesPerSecond;
  return { lastByteAtMs: nowMs, deadlineMs: Math.min(earned, nowMs + limits.bodyTimeoutMs) };
}

/** Why a body is no longer waited for at `nowMs`, or undefined while it still is. */
export function expiredReceipt(state: ReceiptState, nowMs: number, limits: ReceiveLimits): 'idle' | 'slow' | undefined {
  if (nowMs - state.lastByteAtMs >= limits.idleTimeoutMs) return 'idle';
  if (nowMs >= state.deadlineMs) return 'slow';
  return undefined;
}

/**
 * How often a clock with this bound is looked at: a tenth of it, between 10 ms and 1 s, so an expiry is
 * judged at most that late (1 s with the defaults), for one timer per body being received.
 */
export function checkIntervalMs(boundMs: number): number {
  return Math.min(1000, Math.max(10, Math.floor(boundMs / 10)));
}

/**
 * The request body as the route's parser reads it (Fastify's preParsing hook), passed through unchanged
 * while it arrives in time; when the idle or rate rule expires, the stream fails with what `onExpired`
 * makes of the reason (the caller's coded error), and the parser answers it like any body error.
 */
export function boundBodyReceipt(limits: ReceiveLimits, now: () => number, onExpired: (reason: 'idle' | 'slow') => Error): Transform {
  let state = startReceipt(now(), limits);
  const check = (): void => {
    const reason = expiredReceipt(state, now(), limits);
    if (reason !== undefined) stream.destroy(onExpired(reason));
  };
  const timer = setInterval(check, checkIntervalMs(Math.min(limits.idleTimeoutMs, limits.bodyTimeoutMs)));
  // A server closing does not wait for a stalled client's clock.
  timer.unref();
  const stream = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      state = receiveBytes(state, chunk.length, now(), limits);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      clearInterval(timer);
      callback();
    },
  });
  stream.once('close', () => clearInterval(timer));
  return stream;
}
