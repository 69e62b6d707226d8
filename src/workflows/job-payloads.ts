import { z } from 'zod';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { JobQueue, Lease } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';

/**
 * The payloads of Vigil's background jobs, as schemas: a job is read back from a store that another
 * version (or a person) may have written, so the worker checks it before acting on it instead of
 * trusting a type assertion.
 */
export const inferStudyPayloadSchema = z.object({
  studyKey: z.string().min(1),
  studyUid: z.string().min(1),
  instances: z.number().int().positive(),
});
export type InferStudyPayload = z.infer<typeof inferStudyPayloadSchema>;

export const deliverResultPayloadSchema = z.object({
  caseId: z.string().min(1),
  destination: z.enum(['dicom', 'webhook']),
  issue: z.literal('read').optional(),
});
export type DeliverResultPayload = z.infer<typeof deliverResultPayloadSchema>;

/** Reads a job's payload with its kind's schema; JOB_PAYLOAD_INVALID names the first field that does not fit. */
export function parseJobPayload<T>(schema: z.ZodType<T>, kind: string, payload: unknown): T {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue === undefined || issue.path.length === 0 ? '(payload)' : issue.path.join('.');
  throw new PlatformError('JOB_PAYLOAD_INVALID', `The ${kind} job's payload is invalid at ${field}: ${issue?.message ?? 'unreadable'}`, { kind, field });
}

/**
 * Reads a leased job's payload; one that does not fit fails the attempt like any other failure (so the
 * job ends dead-lettered, in view of the operators) and gives undefined: nothing is done from it.
 */
export async function leasedPayload<T>(
  deps: { readonly jobs: JobQueue; readonly logger: Logger },
  lease: Lease,
  schema: z.ZodType<T>,
  stage: string,
): Promise<T | undefined> {
  try {
    return parseJobPayload(schema, lease.job.kind, lease.job.payload);
  } catch (cause) {
    const error = toPlatformError(cause);
    await deps.jobs.fail(lease.job.id, lease.leaseToken, { code: error.code, message: error.message });
    deps.logger.warn({ stage, code: error.code, status: 'failed' }, 'job unreadable');
    return undefined;
  }
}
