/**
 * Results back: a decided case becomes a DICOM SR sent by C-STORE and a FHIR R4 Bundle POSTed to a
 * webhook, each as a job in the durable queue (leased, retried with back-off, dead-lettered), so a
 * destination that is down delays a result and loses nothing. Every document is derived from the case
 * alone (UIDs and ids from hashes of the case id, times from when it was judged), so a job retried
 * after a crash sends the same SR instance and the same Bundle, and the receiver sees a resend.
 *
 * Identity: with re-identification on, the originals kept at ingest (the vault) replace the pseudonyms,
 * so the SR lands in the patient's own study; a study whose originals are missing is not sent under a
 * pseudonymous identity instead (RESULT_IDENTITY_UNAVAILABLE). Nothing identifying is logged or audited.
 */
import type { AuditEvent, ModelIdentity } from '../domain/audit/audit-event.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { CaseResult, ConceptCode, JudgedImage } from '../domain/results/case-result.js';
import { buildFhirBundle, type FhirBundle } from '../domain/results/result-fhir.js';
import { mergeStudyIdentity, type InstanceIdentity, type InstanceReference } from '../domain/results/result-identity.js';
import { buildResultSr, type ResultSrDocument } from '../domain/results/result-sr.js';
import type { CaseStore } from '../ports/case-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import type { DicomResultSender, WebhookSender } from '../ports/result-destinations.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { PredictResult } from './predict-images.js';

export const DELIVER_RESULT_JOB = 'deliver-result';

export type ResultDestinationKind = 'dicom' | 'webhook';

export interface DeliverResultPayload {
  readonly caseId: string;
  readonly destination: ResultDestinationKind;
}

/** A case has something to report when at least one image was decided by the model. */
export function hasDecidedResult(results: readonly PredictResult[]): boolean {
  return results.some((r) => r.status === 'decided' && r.outputs.length > 0);
}

/**
 * Queues one delivery per configured destination for a decided case. The dedupe key names the case and
 * the destination, so a re-run inference job (or a second call) queues nothing new.
 */
export async function enqueueResultDeliveries(
  jobs: JobQueue,
  caseId: string,
  results: readonly PredictResult[],
  destinations: readonly ResultDestinationKind[],
): Promise<number> {
  if (!hasDecidedResult(results)) return 0;
  let created = 0;
  for (const destination of destinations) {
    const payload: DeliverResultPayload = { caseId, destination };
    if ((await jobs.enqueue({ kind: DELIVER_RESULT_JOB, dedupeKey: `deliver:${destination}:${caseId}`, payload: { ...payload } })).created) created++;
  }
  return created;
}

export interface CaseResultDependencies {
  readonly cases: CaseStore;
  readonly studies: StudyRegistry;
  /** What the study's stored (de-identified) DICOM instances say about themselves: pseudonymous. */
  readonly studyInstances: (studyUid: string) => Promise<readonly InstanceIdentity[]>;
  /** Present when results are re-identified (VIGIL_RESULTS_REIDENTIFY). */
  readonly vault?: ReidentificationVault;
  /** The manifest's codes for a model's findings, by label (empty when that model is no longer configured). */
  readonly findingCodes: (model: ModelIdentity) => Promise<ReadonlyMap<string, ConceptCode>>;
  readonly vigilVersion: string;
}

/** The last path segment of a stored instance, `<pseudonymous SOP Instance UID>.dcm` (adapters/files-fs). */
const STORED_DICOM_NAME = /([0-9]+(?:\.[0-9]+)*)\.dcm$/;

/**
 * A decided case as its result documents state it, re-identified when the vault is given.
 * @throws ROUTE_NOT_FOUND (no such case), RESULT_NOT_DECIDED, RESULT_IDENTITY_UNAVAILABLE
 */
export async function assembleCaseResult(deps: CaseResultDependencies, caseId: string): Promise<{ readonly studyKey: string; readonly result: CaseResult }> {
  const record = await deps.cases.get(caseId);
  if (record === undefined) throw new PlatformError('ROUTE_NOT_FOUND', 'No case has this id');
  const results = record.results as readonly PredictResult[];
  const decided = results.filter((r) => r.status === 'decided' && r.outputs.length > 0);
  if (decided.length === 0) throw new PlatformError('RESULT_NOT_DECIDED', 'The case has no decided result to report');
  const study = await deps.studies.get(record.studyKey);
  if (study === undefined) throw new PlatformError('ROUTE_NOT_FOUND', "The case's study is not known");

  const stored = await deps.studyInstances(study.studyUid);
  let identities = stored;
  let studyInstanceUid = study.studyUid;
  let reidentified = false;
  if (deps.vault !== undefined && stored.length > 0) {
    const originals = await deps.vault.studyOriginals(study.studyUid);
    const missing = stored.filter((s) => !originals.has(s.reference.sopInstanceUid)).length;
    if (missing > 0) throw new PlatformError('RESULT_IDENTITY_UNAVAILABLE', 'The originals of some instances of the study are not in the vault', { missing });
    identities = stored.map((s) => originals.get(s.reference.sopInstanceUid) as InstanceIdentity);
    studyInstanceUid = identities[0]?.reference.studyInstanceUid ?? study.studyUid;
    reidentified = true;
  }
  const byStoredUid = new Map<string, InstanceReference>(stored.map((s, i) => [s.reference.sopInstanceUid, (identities[i] as InstanceIdentity).reference]));
  const codes = await deps.findingCodes(record.model);
  const images = decided.map((r): JudgedImage => {
    const storedUid = STORED_DICOM_NAME.exec(r.input.file)?.[1];
    const source = storedUid === undefined ? undefined : byStoredUid.get(storedUid);
    return {
      ...(source === undefined ? {} : { source }),
      ...(r.input.frame === null ? {} : { frameNumber: r.input.frame + 1 }),
      outputs: r.outputs.map((o) => {
        const code = codes.get(o.finding);
        return { finding: o.finding, probability: o.probability, decision: o.decision, ...(code === undefined ? {} : { code }) };
      }),
    };
  });
  return {
    studyKey: record.studyKey,
    result: {
      caseId,
      judgedAt: record.createdAt,
      model: record.model,
      vigilVersion: deps.vigilVersion,
      studyInstanceUid,
      study: mergeStudyIdentity(identities),
      evidence: identities.map((i) => i.reference),
      images,
      notJudged: results.length - decided.length,
      reidentified,
    },
  };
}

/** Ids derived from the case, so every attempt and every reader gets the same documents. */
export interface ResultIds {
  /** A 2.25 UID (PS3.5 B.2) from a hash of `name`. */
  readonly uidOf: (name: string) => string;
  /** An RFC 9562 UUID from a hash of `name`. */
  readonly uuidOf: (name: string) => string;
}

export function resultSrFor(result: CaseResult, ids: ResultIds, deviceObserverUid: string): ResultSrDocument {
  return buildResultSr(result, {
    sopInstanceUid: ids.uidOf(`vigil-result-sr:instance:${result.caseId}`),
    seriesInstanceUid: ids.uidOf(`vigil-result-sr:series:${result.caseId}`),
    deviceObserverUid,
  });
}

export function fhirBundleFor(result: CaseResult, ids: ResultIds, patientIdSystem: string): FhirBundle {
  return buildFhirBundle(result, { patientIdSystem, uuid: (name) => ids.uuidOf(`vigil-result-fhir:${result.caseId}:${name}`) });
}

export interface DeliveryMetrics {
  delivered(destination: ResultDestinationKind): void;
  failed(destination: ResultDestinationKind): void;
}

export interface DeliveryJobDependencies extends CaseResultDependencies {
  readonly jobs: JobQueue;
  /** Appends to the audit log; resolves once the entry is durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
  readonly logger: Logger;
  readonly leaseMs: number;
  readonly ids: ResultIds;
  /** Writes the SR as a Part 10 file. */
  readonly writeSr: (document: ResultSrDocument) => Uint8Array;
  /** The configured destinations; a job for one that is no longer configured fails (and is dead-lettered in the end). */
  readonly dicom?: DicomResultSender;
  readonly webhook?: WebhookSender;
  readonly deviceObserverUid: string;
  readonly patientIdSystem: string;
  readonly metrics?: DeliveryMetrics;
}

/** Delivers one due result if there is one; `idle` when none is due. */
export async function runNextDeliveryJob(deps: DeliveryJobDependencies): Promise<'idle' | 'done' | 'failed'> {
  const lease = await deps.jobs.lease([DELIVER_RESULT_JOB], deps.leaseMs);
  if (lease === undefined) return 'idle';
  const payload = lease.job.payload as unknown as DeliverResultPayload;
  try {
    const { studyKey, result } = await assembleCaseResult(deps, payload.caseId);
    let srSopInstanceUid: string | undefined;
    if (payload.destination === 'dicom') {
      if (deps.dicom === undefined) throw new PlatformError('RESULT_DELIVERY_FAILED', 'No DICOM destination is configured', {});
      if (result.evidence.length === 0) {
        // Uploaded PNG/JPEG images have no DICOM study to attach an SR to: FHIR carries their result.
        await deps.jobs.complete(lease.job.id, lease.leaseToken);
        deps.logger.info({ stage: 'deliver', studyKey, status: 'skipped' }, 'no DICOM instances: no SR to send');
        return 'done';
      }
      const document = resultSrFor(result, deps.ids, deps.deviceObserverUid);
      await deps.dicom.send(deps.writeSr(document));
      srSopInstanceUid = document.sopInstanceUid;
    } else {
      if (deps.webhook === undefined) throw new PlatformError('RESULT_DELIVERY_FAILED', 'No result webhook is configured', {});
      const bundle = fhirBundleFor(result, deps.ids, deps.patientIdSystem);
      await deps.webhook.post(JSON.stringify(bundle), deps.ids.uuidOf(`vigil-result-delivery:${payload.caseId}`));
    }
    // Recorded after the destination accepted it. A crash between the two resends the same document
    // (the receiver sees the same instance or delivery id) and records it then.
    await deps.recordAudit({
      type: 'result_delivered',
      caseId: payload.caseId,
      studyKey,
      destination: payload.destination,
      ...(srSopInstanceUid === undefined ? {} : { srSopInstanceUid }),
    });
    await deps.jobs.complete(lease.job.id, lease.leaseToken);
    deps.metrics?.delivered(payload.destination);
    deps.logger.info({ stage: 'deliver', studyKey, code: payload.destination, status: 'done' }, 'result delivered');
    return 'done';
  } catch (cause) {
    const error = toPlatformError(cause);
    await deps.jobs.fail(lease.job.id, lease.leaseToken, { code: error.code, message: error.message });
    deps.metrics?.failed(payload.destination);
    deps.logger.warn({ stage: 'deliver', code: error.code, status: 'failed' }, 'result delivery failed');
    return 'failed';
  }
}
