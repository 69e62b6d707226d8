import type { Job, JobState } from '../../domain/jobs/job.js';

// Shared by store-sqlite and store-postgres: both keep the jobs table with the same columns and types.

/** A row of `jobs`. A type alias, not an interface, so that it meets pg's `QueryResultRow` index signature. */
export type JobRow = {
  id: number;
  kind: string;
  dedupe_key: string;
  payload: string;
  state: JobState;
  attempts: number;
  max_attempts: number;
  run_at_ms: number;
  lease_until_ms: number | null;
  lease_token: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  created_at_ms: number;
  updated_at_ms: number;
};

const iso = (ms: number): string => new Date(ms).toISOString();

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    kind: row.kind,
    dedupeKey: row.dedupe_key,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    state: row.state,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: iso(row.run_at_ms),
    leaseUntil: row.lease_until_ms === null ? null : iso(row.lease_until_ms),
    leaseToken: row.lease_token,
    lastError: row.last_error_code === null ? null : { code: row.last_error_code, message: row.last_error_message ?? '' },
    createdAt: iso(row.created_at_ms),
    updatedAt: iso(row.updated_at_ms),
  };
}
