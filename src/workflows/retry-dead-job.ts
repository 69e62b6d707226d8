import type { Principal } from '../domain/access/roles.js';
import type { JobRetriedEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import type { JobQueue } from '../ports/job-queue.js';

export interface RetryDeadJobDependencies {
  readonly jobs: Pick<JobQueue, 'retryDead'>;
  readonly recordAudit: (event: JobRetriedEvent) => Promise<unknown>;
}

/**
 * Sends a dead-lettered job back to the queue (an operator's retry, once its cause is fixed: a
 * destination back up, a model replaced), audited with who did it. A case or delivery the job
 * completes is still saved once. ROUTE_NOT_FOUND when no dead-lettered job has this id (a live or
 * finished job is not retried).
 */
export async function retryDeadJob(
  deps: RetryDeadJobDependencies,
  operator: Principal,
  jobId: number,
): Promise<{ readonly jobId: number; readonly state: 'ready' }> {
  if (!(await deps.jobs.retryDead(jobId))) throw new PlatformError('ROUTE_NOT_FOUND', 'No dead-lettered job has this id');
  await deps.recordAudit({ type: 'job_retried', jobId, userId: operator.userId, role: operator.role });
  return { jobId, state: 'ready' };
}
