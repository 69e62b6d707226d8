import type { JobQueue } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { InferStudyPayload } from './job-payloads.js';

export const INFER_STUDY_JOB = 'infer-study';

export type { InferStudyPayload } from './job-payloads.js';

/**
 * Queues an inference job for every study that has been quiet for `quietMs` (senders give no end
 * marker). The job's dedupe key — the case id — names the study and its instance count, so assembling
 * twice queues once, and a study that grows later is judged again as a whole. It names no model: which
 * version judges is the site's deployment's choice when the job runs (workflows/judge-study.ts), and the
 * case records it; a configured model that cannot load must not stop studies being queued.
 */
export async function assembleStudies(
  deps: { readonly studies: StudyRegistry; readonly jobs: JobQueue; readonly logger: Logger },
  quietMs: number,
): Promise<number> {
  let queued = 0;
  for (const study of await deps.studies.quietStudies(quietMs)) {
    const payload: InferStudyPayload = { studyKey: study.studyKey, studyUid: study.studyUid, instances: study.instances };
    const { created } = await deps.jobs.enqueue({
      kind: INFER_STUDY_JOB,
      dedupeKey: `infer:${study.studyKey}:${study.instances}`,
      payload: { ...payload },
    });
    // If an instance arrived meanwhile, the study stays receiving and is assembled again later.
    await deps.studies.markQueued(study.studyKey, study.instances);
    if (created) {
      queued++;
      deps.logger.info({ stage: 'assemble', studyKey: study.studyKey, count: study.instances }, 'study queued for inference');
    }
  }
  return queued;
}
