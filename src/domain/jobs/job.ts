/**
 * Durable work: a job is leased by one worker at a time, retried with exponential back-off when it
 * fails, and dead-lettered with its last error after `maxAttempts`. A lease that runs out (the
 * worker crashed or hung) makes the job available again, so nothing is lost; the work a job does
 * must therefore be idempotent (keyed by the job's `dedupeKey`), so nothing is done twice.
 */
export type JobState = 'ready' | 'leased' | 'done' | 'dead';

export interface Job {
  readonly id: number;
  readonly kind: string;
  /** Unique per logical unit of work (e.g. `infer:<studyKey>:<instance count>`): enqueueing it twice is a no-op. */
  readonly dedupeKey: string;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly state: JobState;
  /** Attempts started so far, including the current lease. */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** ISO 8601: not before. */
  readonly runAt: string;
  /** ISO 8601, while leased. */
  readonly leaseUntil: string | null;
  /** Set at each lease; `complete` and `fail` must present it, so a worker whose lease expired cannot finish a job another worker now holds. */
  readonly leaseToken: string | null;
  readonly lastError: { readonly code: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface RetryPolicy {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/**
 * Delay before attempt `attempts + 1` after `attempts` failures: base × 2^(attempts − 1), capped.
 * Deterministic (no jitter) so tests and audits can predict it; a fleet large enough to herd can add
 * jitter in the adapter.
 */
export function retryDelayMs(attempts: number, policy: RetryPolicy): number {
  const exponent = Math.max(0, attempts - 1);
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.min(exponent, 52));
}
