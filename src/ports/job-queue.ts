import type { Job, JobState } from '../domain/jobs/job.js';

export interface EnqueueRequest {
  readonly kind: string;
  readonly dedupeKey: string;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Default: now. */
  readonly runAt?: Date;
  /** Default: the queue's. */
  readonly maxAttempts?: number;
}

export interface Lease {
  readonly job: Job;
  readonly leaseToken: string;
}

/**
 * A durable job queue in the store (asynchronous, so that a networked store such as PostgreSQL can
 * implement it). Every method is atomic; `enqueue` returns only once the job is
 * durable. Times come from the queue's Clock.
 */
export interface JobQueue {
  /** Adds a job, or returns the existing one with the same `dedupeKey` (whatever its state) and `created: false`. */
  enqueue(request: EnqueueRequest): Promise<{ readonly job: Job; readonly created: boolean }>;
  /** Leases the oldest due job of one of `kinds` (ready and due, or leased with an expired lease), or undefined. */
  lease(kinds: readonly string[], leaseMs: number): Promise<Lease | undefined>;
  /**
   * Extends a lease the caller still holds (a worker's heartbeat while it works), so leases can be short
   * and a crashed worker's job comes back soon. False if the token is stale or the lease already ran out.
   */
  extendLease(jobId: number, leaseToken: string, leaseMs: number): Promise<boolean>;
  /** Marks a leased job done. False (and no change) if the lease token is not the job's current one. */
  complete(jobId: number, leaseToken: string): Promise<boolean>;
  /**
   * Records a failed attempt: the job becomes ready again after the retry delay, or dead with its
   * error after `maxAttempts`. False (and no change) if the lease token is stale.
   */
  fail(jobId: number, leaseToken: string, error: { readonly code: string; readonly message: string }): Promise<boolean>;
  get(jobId: number): Promise<Job | undefined>;
  /** Jobs per state (for metrics: queue depth, dead letters). */
  counts(): Promise<Readonly<Record<JobState, number>>>;
  /** Dead-lettered jobs, newest first. */
  deadLetters(limit: number): Promise<readonly Job[]>;
  /** Makes a dead job ready again with its attempts reset (an operator's retry). */
  retryDead(jobId: number): Promise<boolean>;
}
