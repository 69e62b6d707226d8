/**
 * Results back: a decided case becomes a DICOM SR sent by C-STORE and a FHIR R4 Bundle POSTed to a
 * webhook, each as a job in the durable queue (leased, retried with back-off, dead-lettered), so a
 * destination that is down delays a result and loses nothing. Every document is derived from what the
 * store says of the case (UIDs and ids from hashes of case ids, times from when it was judged or read,
 * its supersession links and its reads), so a job retried after a crash sends the same SR instance and
 * the same Bundle, and the receiver sees a resend.
 *
 * Versions: a result is issued when its case is judged, again (FHIR only) once a human has read the
 * case (its report is then `final`), and a case that supersedes an earlier one of its study issues a new
 * SR naming the earlier SR as its predecessor and an `amended` FHIR report under the earlier report's id.
 * A superseded case's deliveries still queued are dropped: the newer result must not be overtaken by the
 * older one (the newer still names the older as what it amends, whose content it includes, even if the
 * older never reached the destination).
 *
 * Identity: with re-identification on, the originals kept at ingest (the vault) replace the pseudonyms,
 * so the SR lands in the patient's own study; a study whose originals are missing is not sent under a
 * pseudonymous identity instead (RESULT_IDENTITY_UNAVAILABLE). Nothing identifying is logged or audited.
 */
import { deliverResultPayloadSchema, leasedPayload, type DeliverResultPayload } from './job-payloads.js';
import type { AuditEvent, ModelIdentity } from '../domain/audit/audit-event.js';
import { PlatformError, toPlatformError } from '../domain/errors.js';
import type { CaseRead, CaseResult, ConceptCode, JudgedImage } from '../domain/results/case-result.js';
import { buildFhirBundle, type FhirBundle } from '../domain/results/result-fhir.js';
import { mergeStudyIdentity, type InstanceIdentity, type InstanceReference } from '../domain/results/result-identity.js';
import { buildResultSr, type ResultSrDocument } from '../domain/results/result-sr.js';
import type { ResultIds } from '../domain/results/derived-ids.js';
import type { CaseRecord, CaseStore } from '../ports/case-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { Logger } from '../ports/logger.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import type { DicomResultSender, WebhookSender } from '../ports/result-destinations.js';
import type { StudyRegistry } from '../ports/study-registry.js';
import type { WorklistStore } from '../ports/worklist-store.js';
import type { PredictResult } from './predict-images.js';

export const DELIVER_RESULT_JOB = 'deliver-result';

export type ResultDestinationKind = 'dicom' | 'webhook';

/** Which issue of a case's result: as judged (absent), or again after a human read the case. */
export type ResultIssue = 'read';

export type { DeliverResultPayload } from './job-payloads.js';

/** A case has something to report when at least one image was decided by the model. */
export function hasDecidedResult(results: readonly PredictResult[]): boolean {
  return results.some((r) => r.status === 'decided' && r.outputs.length > 0);
}

/**
 * Queues one delivery per configured destination for a decided case. The dedupe key names the case, the
 * destination and the issue, so a re-run inference job (or a second call) queues nothing new.
 */
export async function enqueueResultDeliveries(
  jobs: JobQueue,
  caseId: string,
  results: readonly PredictResult[],
  destinations: readonly ResultDestinationKind[],
  issue?: ResultIssue,
): Promise<number> {
  if (!hasDecidedResult(results)) return 0;
  let created = 0;
  for (const destination of destinations) {
    const payload: DeliverResultPayload = { caseId, destination, ...(issue === undefined ? {} : { issue }) };
    const dedupeKey = `deliver:${destination}:${caseId}${issue === undefined ? '' : `:${issue}`}`;
    if ((await jobs.enqueue({ kind: DELIVER_RESULT_JOB, dedupeKey, payload: { ...payload } })).created) created++;
  }
  return created;
}

/**
 * Once every worklist item of a current, decided case has a read, issues its FHIR report again (now
 * `final`, or still `amended`, and stating the read). The SR is not issued again (result-sr.ts says
 * why). Idempotent: call it after every review, and again when a review is refused as already recorded
 * (a crash between recording the read and queuing this is repaired by the client's retry).
 */
export async function reissueAfterRead(
  deps: {
    readonly jobs: JobQueue;
    readonly cases: Pick<CaseStore, 'get'>;
    readonly worklist: Pick<WorklistStore, 'listForCase'>;
    readonly destinations: readonly ResultDestinationKind[];
  },
  caseId: string,
): Promise<number> {
  const webhook = deps.destinations.filter((d) => d === 'webhook');
  if (webhook.length === 0) return 0;
  const items = await deps.worklist.listForCase(caseId);
  if (items.length === 0 || items.some((i) => i.state !== 'reviewed')) return 0;
  const record = await deps.cases.get(caseId);
  if (record === undefined || record.supersededBy !== null) return 0;
  return enqueueResultDeliveries(deps.jobs, caseId, record.results as readonly PredictResult[], webhook, 'read');
}

export interface CaseResultDependencies {
  readonly cases: CaseStore;
  readonly studies: StudyRegistry;
  /** A case's items and reads: the report is final once a human has read the case. */
  readonly worklist: Pick<WorklistStore, 'listForCase' | 'reviewsForCase'>;
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
  const { reportCaseId, amends } = await reportLineage(deps.cases, record);
  const read = await caseRead(deps.worklist, caseId);
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
      reportCaseId,
      ...(amends === undefined ? {} : { amends }),
      ...(read === undefined ? {} : { read }),
    },
  };
}

/** How far back a chain of superseded cases is followed (a study re-judged this often is sent as a new report). */
const MAX_LINEAGE = 1_000;

/**
 * The earlier cases of the study this one superseded, followed back: the nearest whose result was
 * issued (decided) is the one this case amends; the first of them is the report's identity.
 */
async function reportLineage(cases: CaseStore, record: CaseRecord): Promise<{ readonly reportCaseId: string; readonly amends?: string }> {
  let reportCaseId = record.caseId;
  let amends: string | undefined;
  const seen = new Set([record.caseId]);
  for (let previous = record.supersedes; previous !== null && !seen.has(previous) && seen.size < MAX_LINEAGE;) {
    seen.add(previous);
    const earlier = await cases.get(previous);
    if (earlier === undefined) break;
    if (hasDecidedResult(earlier.results as readonly PredictResult[])) {
      amends ??= earlier.caseId;
      reportCaseId = earlier.caseId;
    }
    previous = earlier.supersedes;
  }
  return amends === undefined ? { reportCaseId } : { reportCaseId, amends };
}

/** The case's reads once every one of its worklist items has one; undefined before (or when it has no item: nobody was asked to read it). */
async function caseRead(worklist: CaseResultDependencies['worklist'], caseId: string): Promise<CaseRead | undefined> {
  const items = await worklist.listForCase(caseId);
  if (items.length === 0 || items.some((i) => i.state !== 'reviewed')) return undefined;
  const reviews = await worklist.reviewsForCase(caseId);
  const last = reviews.at(-1);
  if (last === undefined) return undefined;
  return {
    at: last.createdAt,
    reads: reviews.map((r) => ({
      findingPresent: r.read.findingPresent,
      imageQualityAdequate: r.read.imageQualityAdequate,
      agreesWithModel: r.read.agreesWithModel,
    })),
  };
}

/** Ids derived from the case, so every attempt and every reader gets the same documents. */
export type { ResultIds } from '../domain/results/derived-ids.js';

const srUids = (ids: ResultIds, caseId: string) => ({
  sopInstanceUid: ids.uidOf(`vigil-result-sr:instance:${caseId}`),
  seriesInstanceUid: ids.uidOf(`vigil-result-sr:series:${caseId}`),
});

/** The case's SR: UIDs from its case id; when it amends an earlier case, that case's SR (same derivation) is its predecessor. */
export function resultSrFor(result: CaseResult, ids: ResultIds, deviceObserverUid: string): ResultSrDocument {
  return buildResultSr(result, {
    ...srUids(ids, result.caseId),
    deviceObserverUid,
    ...(result.amends === undefined ? {} : { predecessor: srUids(ids, result.amends) }),
  });
}

export function fhirBundleFor(result: CaseResult, ids: ResultIds, patientIdSystem: string): FhirBundle {
  return buildFhirBundle(result, { patientIdSystem, uuid: (name) => ids.uuidOf(`vigil-result-fhir:${name}`) });
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
  const payload = await leasedPayload(deps, lease, deliverResultPayloadSchema, 'deliver');
  if (payload === undefined) return 'failed';
  try {
    const record = await deps.cases.get(payload.caseId);
    if (record !== undefined && record.supersededBy !== null) {
      // A later case of the study replaced this one before its result went out: sending it now could
      // overtake the newer result at the receiver. The newer case's own deliveries say what is current.
      await deps.jobs.complete(lease.job.id, lease.leaseToken);
      deps.logger.info({ stage: 'deliver', code: payload.destination, status: 'superseded' }, 'result of a superseded case not sent');
      return 'done';
    }
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
      // One delivery id per issue: the receiver deduplicates retries, not the result read again.
      const deliveryName = `vigil-result-delivery:${payload.caseId}${payload.issue === undefined ? '' : `:${payload.issue}`}`;
      await deps.webhook.post(JSON.stringify(bundle), deps.ids.uuidOf(deliveryName));
    }
    // Recorded after the destination accepted it. A crash between the two resends the same document
    // (the receiver sees the same instance or delivery id) and records it then.
    await deps.recordAudit({
      type: 'result_delivered',
      caseId: payload.caseId,
      studyKey,
      destination: payload.destination,
      ...(srSopInstanceUid === undefined ? {} : { srSopInstanceUid }),
      ...(payload.issue === undefined ? {} : { issue: payload.issue }),
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
