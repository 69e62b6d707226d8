/**
 * Ingest (C-STORE, STOW-RS and uploads alike): de-identify at the door with the ingest profile,
 * store durably, assemble studies; and the service loop that runs ingest, inference and delivery.
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createKeyedDigest } from '../adapters/crypto-node/keyed-digest.js';
import { HmacPseudonymizer } from '../adapters/crypto-node/hmac-pseudonymizer.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { createResultSealer } from '../adapters/crypto-node/result-sealer.js';
import { loadOrCreateSiteSecret } from '../adapters/crypto-node/site-secret.js';
import { ElementDeidentifier } from '../adapters/dicom-dcmjs/element-deidentifier.js';
import { readSentIdentity } from '../adapters/dicom-dcmjs/read-instance-identity.js';
import { FsInstanceStore } from '../adapters/files-fs/fs-instance-store.js';
import { rasterKind } from '../adapters/image-sharp/sharp-raster-reader.js';
import type { VigilConfig } from '../config/load-config.js';
import { validateProfile } from '../domain/deidentification/deidentify-dataset.js';
import { accessionLookupKey, pseudonymousStudyKey, type KeyedDigest } from '../domain/deidentification/keyed-pseudonyms.js';
import { PlatformError, isPlatformError } from '../domain/errors.js';
import { uid225 } from '../domain/results/derived-ids.js';
import { reviewSampleDraw } from '../domain/review/sample-draw.js';
import type { Logger } from '../ports/logger.js';
import type { ReidentificationVault } from '../ports/reidentification-vault.js';
import type { DeliveryJobDependencies, ResultDestinationKind } from '../workflows/deliver-results.js';
import type { DeidentifiedInstance } from '../workflows/ingest-instance.js';
import { ingestUpload } from '../workflows/ingest-upload.js';
import type { Deployments } from '../workflows/deployments.js';
import { judgeStudy } from '../workflows/judge-study.js';
import type { DeidentifiedAtIngest } from '../workflows/predict-images.js';
import { ServiceLoop } from '../workflows/service-loop.js';
import { storeInstances } from '../workflows/store-instances.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import { inflateLimitsOf, siteSecretFile, systemClock } from './settings.js';
import type { ServerStores } from './stores.js';

/**
 * De-identification at the door with the ingest profile (VIGIL_DEID_OPTIONS), headers only: the
 * pixels stay inside the data folder, for the model and the reviewer. One piece for every way in
 * (predict, C-STORE, STOW-RS); throws for what cannot be de-identified.
 */
export function createIngestDeidentifier(
  config: VigilConfig,
  digest: KeyedDigest,
  options: { readonly keepOriginals?: boolean } = {},
): (bytes: Uint8Array) => Promise<DeidentifiedInstance> {
  const profile = { name: 'basic' as const, options: new Set(config.deidOptions) };
  validateProfile(profile.options);
  const deidentifier = new ElementDeidentifier({ inflate: inflateLimitsOf(config) });
  return async (bytes) => {
    // Results re-identified (the server): the originals a result needs, read from the de-identifier's own
    // parse before anything is changed. An instance without them is still ingested; its study's results
    // then cannot be re-identified.
    // A Deflated instance is kept inflated (keepDeflated: false), so that nothing downstream inflates it again.
    const outcome = await deidentifier.deidentify(bytes, {
      profile,
      digest,
      pixelRules: [],
      headersOnly: true,
      readOriginal: options.keepOriginals === true,
      keepDeflated: false,
    });
    if (outcome.status !== 'deidentified') throw new PlatformError('DEID_PIXEL_CLEAN_FAILED', 'The instance could not be de-identified at ingest');
    // Type 1 in every IOD: without it the instance cannot be filed into a study (refused, not failed).
    if (outcome.studyInstanceUid === undefined) throw new PlatformError('DICOM_IMAGE_ATTRIBUTES_INVALID', 'The instance has no Study Instance UID (0020,000D)');
    return {
      studyUid: outcome.studyInstanceUid,
      sopInstanceUid: outcome.sopInstanceUid,
      bytes: outcome.bytes,
      ...(outcome.original === undefined ? {} : { original: outcome.original }),
      ...(outcome.patientAgeYears === undefined ? {} : { patientAgeYears: outcome.patientAgeYears }),
      studyFacts: outcome.studyFacts,
    };
  };
}

/**
 * `vigil predict`'s door: the pseudonymizer and the ingest de-identifier, keyed on the site secret.
 * The reader then reports the file's own error for what cannot be de-identified; except a Deflated
 * dataset past the inflate limit, which the reader would only inflate as far again to refuse it too.
 */
export function createPredictIngest(
  config: VigilConfig,
  secret: Uint8Array,
): { pseudonymizer: HmacPseudonymizer; deidentify: (bytes: Uint8Array) => Promise<DeidentifiedAtIngest | undefined> } {
  const deidentify = createIngestDeidentifier(config, createKeyedDigest(secret));
  return {
    pseudonymizer: new HmacPseudonymizer(secret),
    deidentify: (bytes: Uint8Array) =>
      deidentify(bytes).then(
        (i) => ({ bytes: i.bytes, ...(i.patientAgeYears === undefined ? {} : { patientAgeYears: i.patientAgeYears }) }),
        (cause: unknown) => {
          if (isPlatformError(cause) && cause.code === 'DICOM_INFLATE_LIMIT_EXCEEDED') throw cause;
          return undefined;
        },
      ),
  };
}

/** The server's ingest parts: the keyed digest (site secret), the instance store, and the vault when results are re-identified. */
export interface ServerIngest {
  readonly digest: KeyedDigest;
  readonly instances: FsInstanceStore;
  readonly vault: ReidentificationVault | undefined;
}

export async function createServerIngest(config: VigilConfig, stores: Pick<ServerStores, 'vault'>): Promise<ServerIngest> {
  const siteSecret = await loadOrCreateSiteSecret(siteSecretFile(config));
  const digest = createKeyedDigest(siteSecret);
  const instances = new FsInstanceStore(join(config.dataDir, 'objects'));
  // Results back: originals kept at ingest (encrypted) only when results are re-identified.
  const vault = !config.resultsReidentify ? undefined : stores.vault(createResultSealer(siteSecret));
  return { digest, instances, vault };
}

/** Ingest, assembly, inference and delivery: the server's background work (its timers run once started). */
export function createServiceLoop(
  config: VigilConfig,
  logger: Logger,
  parts: {
    readonly ingest: ServerIngest;
    readonly stores: Pick<ServerStores, 'jobs' | 'studies' | 'cases' | 'worklist' | 'deployments' | 'modelRegistry'>;
    /** What judges each site's studies. */
    readonly deployments: Deployments;
    readonly delivery: DeliveryJobDependencies | undefined;
    readonly resultDestinations: readonly ResultDestinationKind[];
    readonly services: Pick<VigilServices, 'predict' | 'currentModel' | 'recordAudit' | 'monitoring'>;
  },
): ServiceLoop {
  const { digest, instances, vault } = parts.ingest;
  const { jobs, studies, cases, worklist } = parts.stores;
  const { services, deployments } = parts;
  return new ServiceLoop(
    {
      ...(parts.delivery === undefined ? {} : { delivery: parts.delivery }),
      ingest: {
        ...(vault === undefined ? {} : { vault }),
        deidentify: createIngestDeidentifier(config, digest, { keepOriginals: vault !== undefined }),
        studyKeyOf: (studyUid) => pseudonymousStudyKey(digest, studyUid),
        instances,
        studies,
        logger,
        minFreeBytes: config.minFreeDiskBytes,
      },
      inference: {
        jobs,
        studies,
        cases,
        worklist,
        recordAudit: (event) => services.recordAudit(event),
        // A uniform draw in [0, 1) from the item id: deterministic, so a re-run samples the same items.
        sampleDraw: (itemId) => reviewSampleDraw(itemId, (text) => nodeHasher.sha256Hex(text)),
        reviewSampleRate: config.reviewSampleRate,
        logger,
        leaseMs: config.jobLeaseMs,
        resultDestinations: parts.resultDestinations,
        judgeStudy: (studyUid, studyKey, caseId) =>
          judgeStudy(
            {
              studies,
              instances,
              nameOf: (path) => instances.nameOf(path),
              predict: (paths, options, emit) => services.predict(paths, options, emit),
              siteOf: (recorded) => (recorded !== null && deployments.sites.sites.some((s) => s.id === recorded) ? recorded : deployments.sites.defaultSite),
              route: (site, key) => deployments.route(site, key),
              identityOf: async (versionId) => {
                const version = versionId === null ? undefined : await parts.stores.modelRegistry.get(versionId);
                if (version !== undefined) return { ...version.model, versionId: version.versionId };
                const { manifest } = await services.currentModel();
                return { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 };
              },
              recordShadow: (comparison) => parts.stores.deployments.recordShadow(comparison),
              recordAudit: (event) => services.recordAudit(event),
              clock: systemClock,
              logger,
              // Production monitoring: the judged images' measurements, appended and consumed incrementally.
              monitor: async (judged) => (await services.monitoring()).monitoring.recordJudged(judged),
            },
            studyUid,
            studyKey,
            caseId,
          ),
      },
      studies,
      jobs,
      logger,
      model: async () => {
        const { manifest } = await services.currentModel();
        return { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 };
      },
    },
    { studyQuietMs: config.studyQuietMs, assembleEveryMs: Math.max(200, Math.min(1_000, config.studyQuietMs / 4)), idleSleepMs: 1_000 },
  );
}

/** The server's ways in over HTTP (STOW-RS, uploads) and its study look-ups by what a sender knows. */
export function ingestServices(
  config: VigilConfig,
  logger: Logger,
  parts: {
    readonly ingest: ServerIngest;
    readonly studies: ServerStores['studies'];
    readonly loop: ServiceLoop;
    /** The configured site an HTTP sender's instances come from (arrival-sites.ts). */
    readonly siteOf: (senderId: string | undefined, declaredSite?: string) => Promise<string>;
  },
): Pick<VigilServices, 'storeInstances' | 'uploadImages' | 'studyLookupKeys'> {
  const { digest, instances } = parts.ingest;
  const { loop, studies } = parts;
  const hasRoom = async (): Promise<boolean> => (await instances.freeBytes()) >= config.minFreeDiskBytes;
  return {
    storeInstances: async (sent, sender) =>
      storeInstances(
        {
          ingest: (bytes, from) => loop.receive(bytes, from),
          hasRoom,
          // From the header or the File Meta Information, never by inflating: ingest inflates once.
          identify: (bytes) => Promise.resolve(readSentIdentity(bytes)),
        },
        sent,
        { ...sender, site: await parts.siteOf(sender?.senderId) },
      ),
    studyLookupKeys: (sent) => {
      const accessionKey = sent.accessionNumber === undefined ? undefined : accessionLookupKey(digest, sent.accessionNumber);
      return Promise.resolve({
        ...(sent.studyInstanceUid === undefined ? {} : { studyKey: pseudonymousStudyKey(digest, sent.studyInstanceUid) }),
        ...(accessionKey === undefined ? {} : { accessionKey }),
      });
    },
    uploadImages: async (declaration, images, sender) =>
      ingestUpload(
        {
          instances,
          studies,
          logger,
          rasterKind,
          // 2.25 UIDs (PS3.5 B.2): a random UUID for the study, the image's SHA-256 (first 128 bits) for each image.
          newStudyUid: () => uid225(randomUUID().replaceAll('-', '')),
          contentUid: (bytes) => uid225(nodeHasher.sha256Hex(bytes)),
          studyKeyOf: (studyUid) => pseudonymousStudyKey(digest, studyUid),
          hasRoom,
        },
        declaration,
        images,
        { ...sender, site: await parts.siteOf(sender?.senderId, declaration.site) },
      ),
  };
}
