import type { AuditEvent, ModelIdentity } from '../domain/audit/audit-event.js';
import { toPlatformError } from '../domain/errors.js';
import { hasUncheckedRestriction } from '../domain/quality/gate.js';
import { deviceLabel } from '../domain/image/image-summary.js';
import { studyWorklistEntry } from '../domain/review/worklist.js';
import type { CaseStore } from '../ports/case-store.js';
import type { NewWorklistItem, WorklistStore } from '../ports/worklist-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import { INFER_STUDY_JOB } from './assemble-studies.js';
import { inferStudyPayloadSchema, leasedPayload } from './job-payloads.js';
import type { PredictResult } from './predict-images.js';
import { enqueueResultDeliveries, type ResultDestinationKind } from './deliver-results.js';

export interface InferenceJobDependencies {
  readonly jobs: JobQueue;
  readonly studies: StudyRegistry;
  readonly cases: CaseStore;
  readonly worklist: WorklistStore;
  /** A number in [0, 1) drawn deterministically for a worklist item id (for sampling confident studies). */
  readonly sampleDraw: (itemId: string) => number;
  /** Share of confident decisions sent to review anyway, to measure real performance. */
  readonly reviewSampleRate: number;
  readonly logger: Logger;
  /** Judges every frame of a stored study (the predict workflow over the study's instances). */
  readonly judgeStudy: (
    studyUid: string,
    studyKey: string,
    caseId: string,
  ) => Promise<{ readonly model: ModelIdentity; readonly results: readonly PredictResult[] }>;
  readonly leaseMs: number;
  /** Where decided cases' results go (deliver-results.ts); none when unset. */
  readonly resultDestinations?: readonly ResultDestinationKind[];
  /** Appends to the audit log (supersessions); resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
}

/**
 * Runs one inference job if one is due: judges the study, saves the case under the job's dedupe key
 * (a job re-run after a crash finds its case saved and duplicates nothing), then completes the job.
 * A failure is recorded on the job, which is retried with back-off and dead-lettered in the end.
 *
 * The study's state follows (ports/study-registry.ts): `judging` while the job runs, `judged` once the
 * case is saved, `queued` after a failed attempt, `failed` when dead-lettered; each change only if the
 * study still has the instances the job was queued for. A job whose study grew before it started is
 * completed without judging (the study is receiving again and will be judged whole). A study that grew
 * after it was judged gets a new case that supersedes the old one (case-store.ts): the old case's open
 * worklist items are closed, its results amended by the new case's (deliver-results.ts), and the
 * supersession audited.
 */
export async function runNextInferenceJob(deps: InferenceJobDependencies): Promise<'idle' | 'done' | 'failed'> {
  const lease = await deps.jobs.lease([INFER_STUDY_JOB], deps.leaseMs);
  if (lease === undefined) return 'idle';
  const payload = await leasedPayload(deps, lease, inferStudyPayloadSchema, 'infer');
  if (payload === undefined) return 'failed';
  // Heartbeat: renew the lease at a third of its length while the study is judged, so a short lease
  // (a crashed worker's job returns soon) does not expire under a long study.
  const heartbeat = setInterval(
    () => {
      deps.jobs.extendLease(lease.job.id, lease.leaseToken, deps.leaseMs).catch(() => undefined);
    },
    Math.max(50, deps.leaseMs / 3),
  );
  try {
    const study = await deps.studies.get(payload.studyKey);
    if (study !== undefined && study.instances > payload.instances) {
      await deps.jobs.complete(lease.job.id, lease.leaseToken);
      deps.logger.info({ stage: 'infer', studyKey: payload.studyKey, count: payload.instances, status: 'skipped' }, 'study grew before it was judged');
      return 'done';
    }
    await deps.studies.markProgress(payload.studyKey, payload.instances, 'judging');
    const caseId = lease.job.dedupeKey;
    const { model, results } = await deps.judgeStudy(payload.studyUid, payload.studyKey, caseId);
    await deps.cases.save({ caseId, studyKey: payload.studyKey, model, instances: payload.instances, results });
    // The links as stored: a job re-run after a crash acts on what its first run saved.
    const saved = await deps.cases.get(caseId);
    if (saved?.supersededBy === null) {
      if (saved.supersedes !== null) await supersede(deps, saved.supersedes, caseId, payload.studyKey);
      // Idempotent too: a job re-run after a crash between the two writes adds the items it missed.
      await deps.worklist.addItems(worklistItems(deps, caseId, payload.studyKey, results, study));
      // Idempotent as well (dedupe key per case and destination), and queued before the job completes:
      // a crash in between re-runs the job, which queues what is missing.
      await enqueueResultDeliveries(deps.jobs, caseId, results, deps.resultDestinations ?? []);
    } else if (saved !== undefined && saved.supersededBy !== null) {
      // Judged late: a case of more instances of the study is current already. Kept, linked, for the
      // record; nothing goes to review or back to the hospital.
      await deps.recordAudit({ type: 'case_superseded', caseId, supersededBy: saved.supersededBy, studyKey: payload.studyKey, itemsClosed: 0 });
    }
    await deps.studies.markProgress(payload.studyKey, payload.instances, 'judged');
    await deps.jobs.complete(lease.job.id, lease.leaseToken);
    deps.logger.info({ stage: 'infer', studyKey: payload.studyKey, count: results.length, status: 'done' }, 'study judged');
    return 'done';
  } catch (cause) {
    const error = toPlatformError(cause);
    await deps.jobs.fail(lease.job.id, lease.leaseToken, { code: error.code, message: error.message });
    const dead = (await deps.jobs.get(lease.job.id))?.state === 'dead';
    await deps.studies.markProgress(payload.studyKey, payload.instances, dead ? 'failed' : 'queued').catch(() => false);
    deps.logger.warn({ stage: 'infer', studyKey: payload.studyKey, code: error.code, status: 'failed' }, 'inference job failed');
    return 'failed';
  } finally {
    clearInterval(heartbeat);
  }
}

/** The superseded case's open items are closed before the new case's are added: a reviewer never sees both open. */
async function supersede(deps: InferenceJobDependencies, oldCaseId: string, newCaseId: string, studyKey: string): Promise<void> {
  const itemsClosed = await deps.worklist.closeSuperseded(oldCaseId);
  await deps.recordAudit({ type: 'case_superseded', caseId: oldCaseId, supersededBy: newCaseId, studyKey, itemsClosed });
  deps.logger.info({ stage: 'infer', studyKey, count: itemsClosed, status: 'superseded' }, 'earlier case superseded');
}

/**
 * The case's worklist item: one for the whole study (domain/review/worklist.ts, `studyWorklistEntry`),
 * covering every image that gave a reason, or none. Its columns come from the covered images as kept
 * after de-identification (domain/image/image-summary.ts): the modalities among them, and the lead
 * image's body part, age, site and device; its probability is the highest any covered image got.
 */
function worklistItems(
  deps: InferenceJobDependencies,
  caseId: string,
  studyKey: string,
  results: readonly PredictResult[],
  /** The study as received: its modalities and site when no image was judged (nothing was summarised). */
  study: { readonly modalities: readonly string[]; readonly site: string | null } | undefined,
): NewWorklistItem[] {
  const itemId = `${caseId}#study`;
  const entry = studyWorklistEntry(
    results.map((result) => ({
      status: result.status,
      gateVerdict: result.quality?.verdict ?? null,
      gateUnchecked: hasUncheckedRestriction(result.quality?.reasons ?? []),
      decisions: result.outputs.map((o) => o.decision),
    })),
    deps.sampleDraw(itemId),
    deps.reviewSampleRate,
  );
  if (entry === undefined) return [];
  const covered = entry.resultIndexes.map((i) => results[i]).filter((r): r is PredictResult => r !== undefined);
  const lead = results[entry.leadIndex]?.image ?? covered.find((r) => r.image !== undefined)?.image;
  const judgedModalities = [...new Set(covered.flatMap((r) => (r.image?.modality === undefined ? [] : [r.image.modality])))].sort();
  // A study sent to review unjudged (paused site, model not loadable) has no image summaries: its item
  // still says what was received.
  const modalities = judgedModalities.length > 0 ? judgedModalities : [...(study?.modalities ?? [])].sort();
  const probabilities = covered.flatMap((r) => r.outputs.map((o) => o.probability)).filter((p) => Number.isFinite(p));
  return [
    {
      itemId,
      caseId,
      studyKey,
      resultIndex: entry.leadIndex,
      resultIndexes: entry.resultIndexes,
      reasons: entry.reasons,
      modalities,
      bodyPart: lead?.bodyPart ?? null,
      patientAgeYears: lead?.patientAgeYears ?? null,
      site: lead?.site ?? study?.site ?? null,
      device: lead === undefined ? null : (deviceLabel(lead) ?? null),
      probability: probabilities.length === 0 ? null : Math.max(...probabilities),
      samplingProbability: entry.samplingProbability,
    },
  ];
}
