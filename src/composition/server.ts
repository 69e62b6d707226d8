/**
 * The server (vigil serve): the HTTP API over the same store as the CLI, the service loop, and with
 * `background` the DICOM receiver. Each capability is wired in its own file; this one puts them
 * together and closes them in order.
 */
import { FsInputFiles } from '../adapters/files-fs/fs-input-files.js';
import { readRegularFile } from '../adapters/files-fs/read-bounded-file.js';
import { readSitesFile } from '../adapters/files-fs/read-sites-file.js';
import type { VigilConfig } from '../config/load-config.js';
import type { HttpApp } from '../http/create-http-app.js';
import type { AccessStore } from '../ports/access-store.js';
import type { DicomReceiver } from '../ports/dicom-receiver.js';
import type { Logger } from '../ports/logger.js';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { arrivalSites } from '../workflows/arrival-sites.js';
import { Deployments } from '../workflows/deployments.js';
import { recordReview } from '../workflows/record-review.js';
import { DEMO_DECLARATION, seedDemo, seedDemoRelease, type SeedOutcome } from '../workflows/seed-demo.js';
import { sendMonitoringStream, type MonitoringStreamOutcome } from '../workflows/seed-monitoring-stream.js';
import { PNEUMONIAMNIST_DECLARATION, readMedmnistSplit } from '../adapters/dataset-medmnist/read-npz.js';
import { encodeGreyPng } from '../adapters/image-sharp/encode-png.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toPlatformError } from '../domain/errors.js';
import type { ServiceLoop } from '../workflows/service-loop.js';
import { cachedUserDirectory } from '../workflows/user-directory.js';
import type { VigilServices } from '../workflows/vigil-services.js';
import { createDashboardParts } from './dashboard.js';
import { startDicomReceiver } from './dicom-receiver.js';
import { createServerIngest, createServiceLoop, ingestServices } from './ingest.js';
import { createResultParts, deviceObserverUidOf, resultServices } from './results.js';
import { createServices } from './services.js';
import { systemClock, VIGIL_VERSION } from './settings.js';
import { connectPostgres, createServerStores } from './stores.js';

export interface ApiServer {
  readonly app: HttpApp;
  /** The DICOM receiver's port, when background work runs. */
  readonly dicomPort?: number;
  /** Ingest, assembly and inference; its timers and worker run only with `background`. */
  readonly loop: ServiceLoop;
  /** What judges each site's studies, over the store every server shares: a change here is what the next study any server judges sees. */
  readonly deployments: Deployments;
  /** Set on the first start only: the administrator's one-time token (print it once; only its hash is kept). */
  readonly bootstrap?: { readonly userName: string; readonly token: string };
  /** Seeds an empty store with the public sample data through the real ingest (`npm start`). */
  seedDemo(): Promise<SeedOutcome>;
  /**
   * After a seed (`npm start`, only when seedDemo seeded): the demo's production stream for the monitors,
   * in-distribution PneumoniaMNIST val images then a contrast-shifted device, through the real upload
   * (workflows/seed-monitoring-stream.ts). Undefined without PneumoniaMNIST. Stops when the server closes.
   */
  streamDemoMonitoring(): Promise<MonitoringStreamOutcome | undefined>;
  close(): Promise<void>;
}

/** On the first start (no users yet): an `admin` account and its one-time token. There is never a default password. */
async function bootstrapAdmin(access: AccessStore): Promise<ApiServer['bootstrap']> {
  if ((await access.countUsers()) !== 0) return undefined;
  // Two servers starting on one new database: one creates `admin`, the other's attempt fails on the name.
  const admin = await access.createUser('admin', 'admin').catch(async (error: unknown) => {
    if ((await access.countUsers()) > 0) return undefined;
    throw error;
  });
  if (admin === undefined) return undefined;
  const token = await access.issueToken(admin.userId, 'bootstrap');
  return { userName: admin.name, token: token.secret };
}

/**
 * The configured model (VIGIL_MODEL_DIR), registered, is the first production version of every site
 * with nothing deployed. A site that runs another version keeps it (versions change by release, not by
 * editing the configuration), and the log says so, so an operator who changed VIGIL_MODEL_DIR is not misled.
 */
async function deployConfiguredModel(config: VigilConfig, logger: Logger, services: VigilServices, deployments: Deployments): Promise<void> {
  const { version } = await services.registerModel({ directory: config.modelDir, actor: 'system' });
  for (const other of await deployments.deployInitial(version.versionId)) {
    logger.warn(
      { stage: 'deployment', site: other.site, versionId: other.production ?? 'none' },
      `the site runs another version than VIGIL_MODEL_DIR (${version.versionId.slice(0, 12)}); change it by release (vigil release) or vigil deploy`,
    );
  }
}

/**
 * Wires the HTTP API over the same store as the CLI. On the first start (no users yet) it creates an
 * `admin` account and returns its one-time token: there is never a default password.
 */
export async function createApiServer(
  config: VigilConfig,
  logger: Logger,
  // dashboardDir: the built dashboard; tests point it elsewhere (default <package>/dist/dashboard).
  options: { readonly background?: boolean; readonly dashboardDir?: string } = {},
): Promise<ApiServer> {
  // VIGIL_DATABASE_URL: the stores several servers share live in PostgreSQL (README, "Scaling out").
  const postgres = connectPostgres(config, logger);
  const pool = await postgres?.pool();
  const cliServices = createServices(config, logger, postgres === undefined ? {} : { postgres });
  const stores = createServerStores(config, pool);
  const { access, jobs, studies, cases, worklist } = stores;
  // Which configured site each arriving instance comes from: the site half of the deployment key.
  // Who sent what: the accounts as ingest reads them, at most once a minute (sites here, DICOM senders below).
  const users = cachedUserDirectory(access, () => Date.now());
  const sites = await readSitesFile(config.sitesFile);
  const sitesOf = arrivalSites(sites, users);
  const bootstrap = await bootstrapAdmin(access);
  // What judges each site's studies: its deployment, changed by release or an operator, without a restart.
  const deployments = new Deployments({
    store: stores.deployments,
    registry: stores.modelRegistry,
    sites,
    hasher: nodeHasher,
    clock: systemClock,
    recordAudit: (event) => cliServices.recordAudit(event),
    auditSearch: stores.auditSearch,
  });
  // A change stored by a process killed before it audited it: into the log before anything else changes.
  for (const recovered of await deployments.reconcileAudit()) {
    logger.warn(
      { stage: 'deployment', site: recovered.site, versionId: recovered.production ?? 'none' },
      'a deployment change was stored but not audited (its process stopped); its audit entry was recovered',
    );
  }
  await deployConfiguredModel(config, logger, cliServices, deployments);

  // Ingest (C-STORE and STOW-RS alike): de-identify with the ingest profile, store durably, assemble.
  const ingest = await createServerIngest(config, stores);
  const { instances, vault } = ingest;
  const deviceObserverUid = deviceObserverUidOf(ingest.digest);
  const results = await createResultParts(config, {
    base: { cases, studies, worklist },
    instances,
    vault,
    currentModel: () => cliServices.currentModel(),
    deviceObserverUid,
    jobs,
    recordAudit: (event) => cliServices.recordAudit(event),
    logger,
  });
  const loop = createServiceLoop(config, logger, {
    ingest,
    stores,
    deployments,
    delivery: results.delivery,
    resultDestinations: results.destinations,
    services: cliServices,
  });
  const services: VigilServices = {
    ...cliServices,
    ...resultServices(config, { caseResults: results.caseResults, cases, deviceObserverUid }),
    ...ingestServices(config, logger, { ingest, studies, loop, siteOf: (senderId, declaredSite) => sitesOf.http(senderId, declaredSite) }),
    recordReview: (itemId, reviewerId, read) =>
      recordReview(
        {
          worklist,
          cases,
          jobs,
          recordAudit: (event) => cliServices.recordAudit(event),
          resultDestinations: results.destinations,
          monitorReview: async (review) => (await cliServices.monitoring()).monitoring.recordReviewed(review),
        },
        itemId,
        reviewerId,
        read,
      ),
  };
  const { createHttpApp } = await import('../http/create-http-app.js');
  let receiver: DicomReceiver | undefined;
  let dicomPort: number | undefined;
  const { accounts, dashboard } = createDashboardParts(config, {
    stores,
    instances,
    recordAudit: (event) => services.recordAudit(event),
    // Known once the receiver listens (vigil serve); a process without one (tests, the CLI) has none.
    dicomAddress: () => (dicomPort === undefined ? null : `${config.dicomAeTitle}@${config.dicomHost}:${dicomPort}`),
    dashboardDir: options.dashboardDir,
  });
  const app = await createHttpApp({
    services,
    access,
    accounts,
    jobs,
    studies,
    cases,
    worklist,
    logger,
    version: VIGIL_VERSION,
    bodyLimitBytes: config.maxUploadBytes,
    receiveLimits: {
      headersTimeoutMs: config.httpHeadersTimeoutMs,
      idleTimeoutMs: config.httpIdleTimeoutMs,
      bodyTimeoutMs: config.httpBodyTimeoutMs,
      bodyMinBytesPerSecond: config.httpBodyMinBytesPerSecond,
    },
    resultDeliveries: results.counts,
    dashboard,
  });

  if (options.background === true) {
    ({ receiver, port: dicomPort } = await startDicomReceiver(config, logger, {
      loop,
      users,
      siteOf: (callingAeTitle) => sitesOf.dimse(callingAeTitle),
    }));
    loop.start();
  }
  // The demo's monitoring stream, when one runs: stopped and waited for on close.
  const streamStop = new AbortController();
  let stream: Promise<unknown> = Promise.resolve();
  const pneumoniaNpz = join(config.sampleDataDir, 'medmnist', 'pneumoniamnist.npz');
  return {
    app,
    loop,
    deployments,
    ...(bootstrap === undefined ? {} : { bootstrap }),
    ...(dicomPort === undefined ? {} : { dicomPort }),
    seedDemo: async () => {
      const seeded = await seedDemo({
        prepare: () => cliServices.prepareDemo(),
        files: new FsInputFiles(config.maxInputBytes),
        storeInstances: (parts) => services.storeInstances(parts),
        uploadImages: (declaration, images) => services.uploadImages(declaration, images),
        hasStudies: async () => (await studies.list(1)).length > 0,
        logger,
      });
      if (seeded.status !== 'seeded') return seeded;
      // A second version and its release request, waiting for signatures (the release page's demo).
      const npz = join(config.sampleDataDir, 'medmnist', 'pneumoniamnist.npz');
      const release = await seedDemoRelease({
        pneumoniaMnist: existsSync(npz) ? npz : undefined,
        modelDir: config.modelDir,
        outDir: join(config.dataDir, 'demo-models', 'recalibrated'),
        site: sites.defaultSite,
        ensureRequester: async (name) => {
          if ((await access.userByName(name)) === undefined) await access.createUser(name, 'ml-engineer');
        },
        calibrate: (request) => cliServices.calibrate(request),
        releases: () => cliServices.releases(),
        logger,
      }).catch((cause: unknown) => {
        logger.warn({ stage: 'seed', code: toPlatformError(cause).code }, 'the demo release request could not be seeded');
        return undefined;
      });
      return release === undefined ? seeded : { ...seeded, release };
    },
    streamDemoMonitoring: () => {
      if (!existsSync(pneumoniaNpz)) return Promise.resolve(undefined);
      // Go-live for the stream's site once the seed's studies are judged: the seed (the DICOM samples the gate
      // refuses on purpose, the first test images) stays on the dashboard but is not the monitors' baseline.
      const sent = goLiveAfterSeed(
        async () => (await studies.list(10_000)).every((study) => study.state === 'judged' || study.state === 'failed'),
        async () => (await cliServices.monitoring()).monitoring.startBaseline(await sitesOf.http(undefined, DEMO_DECLARATION.site)),
        streamStop.signal,
        logger,
      )
        .then(() =>
          sendMonitoringStream({
            source: async () => readMedmnistSplit(await readRegularFile(pneumoniaNpz, '.npz file', config.maxInputBytes), 'val', config.maxInputBytes),
            encodePng: encodeGreyPng,
            uploadImages: (declaration, images) => services.uploadImages(declaration, images),
            declared: PNEUMONIAMNIST_DECLARATION,
            // The monitors' reference is the version's own when its bundle has one, else the site's first
            // baseline images after go-live: val fills it and leaves some in control after it.
            inDistribution: config.monitorBaselineCases + 24,
            shifted: 100,
            signal: streamStop.signal,
            now: () => Date.now(),
            deadlineMs: Date.now() + 15 * 60_000,
            logger,
          }),
        )
        .catch((cause: unknown) => {
          logger.warn({ stage: 'seed', code: toPlatformError(cause).code, site: DEMO_DECLARATION.site }, 'the demo monitoring stream failed');
          return undefined;
        });
      stream = sent;
      return sent;
    },
    async close() {
      streamStop.abort();
      await stream;
      await receiver?.stop();
      await loop.stop();
      await app.close();
      await cliServices.close();
      await postgres?.close();
      stores.close();
    },
  };
}

/**
 * Waits (polling, at most 5 minutes; stopped by `signal`) until every seeded study is judged, then marks
 * go-live. Judging is asynchronous (the studies' quiet period, the job queue), so a mark taken at once
 * would put the seed's later cases after it. Past the wait the mark is taken anyway: a seed case judged
 * later then joins the baseline, which the log says.
 */
async function goLiveAfterSeed(allJudged: () => Promise<boolean>, markGoLive: () => Promise<number>, signal: AbortSignal, logger: Logger): Promise<void> {
  const deadline = Date.now() + 5 * 60_000;
  let judged = await allJudged();
  while (!judged && !signal.aborted && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    judged = await allJudged();
  }
  if (signal.aborted) return;
  if (!judged) logger.warn({ stage: 'seed', status: 'go_live_early' }, 'the seeded studies were not all judged within 5 minutes: go-live marked anyway');
  await markGoLive();
}
