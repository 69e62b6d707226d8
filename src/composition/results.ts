/**
 * Results back (workflows/deliver-results.ts): the configured destinations (DICOM SR by C-STORE, a
 * signed webhook), the delivery job's dependencies, and the case-to-document assembly that the FHIR
 * route and DICOMweb use too.
 */
import { readWebhookSecret } from '../adapters/crypto-node/webhook-secret.js';
import { readInstanceIdentity } from '../adapters/dicom-dcmjs/read-instance-identity.js';
import { resultSrDicomJson, writeResultSr } from '../adapters/dicom-dcmjs/write-result-sr.js';
import { HttpWebhookSender } from '../adapters/webhook-http/http-webhook-sender.js';
import type { VigilConfig } from '../config/load-config.js';
import type { KeyedDigest } from '../domain/deidentification/keyed-pseudonyms.js';
import { findingCodesOf } from '../domain/model/finding-codes.js';
import { uid225 } from '../domain/results/derived-ids.js';
import type { InstanceStore } from '../ports/instance-store.js';
import type { Logger } from '../ports/logger.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import {
  assembleCaseResult,
  fhirBundleFor,
  type CaseResultDependencies,
  type DeliveryJobDependencies,
  type ResultDestinationKind,
} from '../workflows/deliver-results.js';
import type { ModelInspection } from '../workflows/inspect-model.js';
import { studyResultObjects } from '../workflows/study-result-objects.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import { inflateLimitsOf, resultIds, systemClock, VIGIL_VERSION } from './settings.js';
import type { ServerStores } from './stores.js';

/** This installation as the SR's device observer: stable, and reveals nothing (a keyed hash). */
export function deviceObserverUidOf(digest: KeyedDigest): string {
  return uid225(Buffer.from(digest('result-device-observer', 'vigil')).toString('hex'));
}

/**
 * Results back (workflows/deliver-results.ts): the destinations configured, the delivery job's
 * dependencies when there is one, and the case-to-document assembly the FHIR route uses too.
 */
export async function createResultParts(
  config: VigilConfig,
  parts: {
    readonly base: Omit<CaseResultDependencies, 'vault' | 'studyInstances' | 'findingCodes' | 'vigilVersion'>;
    readonly instances: InstanceStore;
    readonly vault: ReidentificationVault | undefined;
    readonly currentModel: () => Promise<ModelInspection>;
    readonly deviceObserverUid: string;
    readonly jobs: DeliveryJobDependencies['jobs'];
    readonly recordAudit: DeliveryJobDependencies['recordAudit'];
    readonly logger: Logger;
  },
): Promise<{
  readonly destinations: readonly ResultDestinationKind[];
  readonly delivery?: DeliveryJobDependencies;
  readonly caseResults: CaseResultDependencies;
  /** Deliveries and failed attempts since start, per configured destination (for /api/metrics). */
  readonly counts: () => Readonly<Record<string, { readonly delivered: number; readonly failed: number }>>;
}> {
  const caseResults: CaseResultDependencies = {
    ...parts.base,
    ...(parts.vault === undefined ? {} : { vault: parts.vault }),
    vigilVersion: VIGIL_VERSION,
    studyInstances: async (studyUid) => {
      const identities = [];
      for (const uid of await parts.instances.listDicomInstances(studyUid))
        identities.push(await readInstanceIdentity(await parts.instances.readDicomInstance(studyUid, uid), inflateLimitsOf(config)));
      return identities;
    },
    // Codes come from the configured model's manifest; a case judged by another model keeps its labels only.
    findingCodes: async (model) => findingCodesOf((await parts.currentModel()).manifest, model),
  };
  const destinations: ResultDestinationKind[] = [];
  let dicom: DeliveryJobDependencies['dicom'];
  let webhook: DeliveryJobDependencies['webhook'];
  if (config.resultDicomDestination !== undefined) {
    const { DimseDcmjsSender } = await import('../adapters/dimse-dcmjs/dimse-dcmjs-sender.js');
    dicom = new DimseDcmjsSender({ destination: config.resultDicomDestination, callingAeTitle: config.dicomAeTitle, timeoutMs: 30_000 });
    destinations.push('dicom');
  }
  if (config.resultWebhookUrl !== undefined && config.resultWebhookSecretFile !== undefined) {
    const secret = await readWebhookSecret(config.resultWebhookSecretFile);
    webhook = new HttpWebhookSender({ url: config.resultWebhookUrl, secret, timeoutMs: 30_000, clock: systemClock });
    destinations.push('webhook');
  }
  if (destinations.length === 0) return { destinations, caseResults, counts: () => ({}) };
  const counts = { dicom: { delivered: 0, failed: 0 }, webhook: { delivered: 0, failed: 0 } };
  return {
    destinations,
    caseResults,
    delivery: {
      ...caseResults,
      jobs: parts.jobs,
      recordAudit: parts.recordAudit,
      logger: parts.logger,
      leaseMs: config.jobLeaseMs,
      ids: resultIds,
      writeSr: writeResultSr,
      ...(dicom === undefined ? {} : { dicom }),
      ...(webhook === undefined ? {} : { webhook }),
      deviceObserverUid: parts.deviceObserverUid,
      patientIdSystem: config.fhirPatientIdSystem,
      metrics: {
        delivered: (destination) => void (counts[destination].delivered += 1),
        failed: (destination) => void (counts[destination].failed += 1),
      },
    },
    counts: () => Object.fromEntries(destinations.map((d) => [d, { ...counts[d] }])),
  };
}

/** The results the server serves: the FHIR bundle of a case, and a study's result objects over DICOMweb. */
export function resultServices(
  config: VigilConfig,
  parts: {
    readonly caseResults: CaseResultDependencies;
    readonly cases: ServerStores['cases'];
    readonly deviceObserverUid: string;
  },
): Pick<VigilServices, 'caseResultBundle' | 'studyResultObjects'> {
  // DICOMweb serves the results of the de-identified study (the one QIDO-RS names): never re-identified.
  const { vault: _reidentifying, ...pseudonymousCaseResults } = parts.caseResults;
  return {
    caseResultBundle: async (caseId) => {
      const { studyKey, result } = await assembleCaseResult(parts.caseResults, caseId);
      return { studyKey, bundle: fhirBundleFor(result, resultIds, config.fhirPatientIdSystem) };
    },
    studyResultObjects: (studyKey) =>
      studyResultObjects(
        {
          cases: parts.cases,
          caseResults: pseudonymousCaseResults,
          // With results re-identified, the delivered SR is in the patient's own study under the case's UIDs;
          // the pseudonymous one served here is another document, so it gets UIDs of its own.
          ids: config.resultsReidentify ? { uidOf: (name) => resultIds.uidOf(`pseudonymous:${name}`), uuidOf: resultIds.uuidOf } : resultIds,
          deviceObserverUid: parts.deviceObserverUid,
          writeSr: writeResultSr,
          srDicomJson: resultSrDicomJson,
        },
        studyKey,
      ),
  };
}
