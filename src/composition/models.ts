/**
 * Models: bundles read from folders, the ONNX runner, the pool of models held open for decisions,
 * the model registry (records in the store, bundles' bytes in VIGIL_DATA_DIR/registry), and the
 * dependencies of evaluation and of what is derived from a bundle (calibration, policy, reference).
 */
import { join } from 'node:path';
import { nodeHasher } from '../adapters/crypto-node/node-hasher.js';
import { DcmjsDicomReader } from '../adapters/dicom-dcmjs/dcmjs-dicom-reader.js';
import { FsEvaluationDataSource } from '../adapters/evaluation-fs/fs-evaluation-data.js';
import { FsEvaluationOutput } from '../adapters/evaluation-fs/fs-evaluation-output.js';
import { SharpRasterReader } from '../adapters/image-sharp/sharp-raster-reader.js';
import { FsBundleArchive } from '../adapters/model-bundle-fs/fs-bundle-archive.js';
import { FsModelBundleSource } from '../adapters/model-bundle-fs/fs-model-bundle-source.js';
import { readEvaluationSummaries } from '../adapters/model-bundle-fs/read-evaluation-summaries.js';
import { OnnxModelRunner } from '../adapters/onnx-runtime/onnx-model-runner.js';
import type { VigilConfig } from '../config/load-config.js';
import type { AuditEvent } from '../domain/audit/audit-event.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import { canonicalBundleListing, type ModelVersion } from '../domain/registry/model-version.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Logger } from '../ports/logger.js';
import type { ModelSession } from '../ports/model-runner.js';
import type { DeriveDependencies } from '../workflows/derive-bundle.js';
import { standardInputKinds, type InputKinds } from '../workflows/input-kinds.js';
import { loadModel } from '../workflows/load-model.js';
import { ModelPool } from '../workflows/model-pool.js';
import { registerModel, type RegistryDependencies } from '../workflows/register-model.js';
import { inflateLimitsOf, systemClock, VIGIL_VERSION } from './settings.js';
import type { ProcessStores } from './stores.js';

const VERSION_KEY = 'version:';

/** The pool's key for a registered version (other keys are bundle folders). */
export function versionKey(versionId: string): string {
  return `${VERSION_KEY}${versionId}`;
}

export interface ModelParts {
  readonly bundles: FsModelBundleSource;
  readonly runner: OnnxModelRunner;
  /** The kinds of file read (DICOM, PNG/JPEG), each opened by its own reader. */
  readonly inputs: InputKinds;
  /** The models this process holds open, by folder, within VIGIL_MODEL_POOL_BYTES. */
  readonly pool: ModelPool;
  /** The model registry's dependencies, opened on first use. */
  readonly openRegistry: () => Promise<RegistryDependencies>;
  /** Registers what calibrate, policy and reference derive as a child of the version they derived it from. */
  readonly registerDerived: (
    sourceDir: string,
    outDir: string,
    derivedBy: string,
    datasetSha256: unknown,
  ) => Promise<{ readonly parent: ModelVersion; readonly version: ModelVersion }>;
  /** Evaluation's and derivation's dependencies: their model sessions are their own. */
  readonly evaluationDeps: () => DeriveDependencies;
  /** Closes the pool's models, then evaluation's sessions. */
  close(): Promise<void>;
}

export function createModelParts(
  config: VigilConfig,
  logger: Logger,
  parts: { readonly openAudit: () => AuditLog; readonly stores: Pick<ProcessStores, 'openModelRegistry'> },
): ModelParts {
  const { openAudit } = parts;
  const bundles = new FsModelBundleSource({ maxModelBytes: config.maxModelBytes });
  const runner = new OnnxModelRunner({ executionProvider: config.executionProvider, intraOpThreads: config.intraOpThreads });
  const inputs = standardInputKinds({ dicom: new DcmjsDicomReader({ inflate: inflateLimitsOf(config) }), raster: new SharpRasterReader() });
  // A bundle folder's registry version id (its content address), recorded when the model is loaded.
  // The registry's archive of bundles (VIGIL_DATA_DIR/registry); it also lists a bundle folder's files.
  const archive = new FsBundleArchive({ root: join(config.dataDir, 'registry') });
  const bundleVersionOf = async (directory: string): Promise<string> => nodeHasher.sha256Hex(canonicalBundleListing(await archive.listBundle(directory)));
  // The models this process holds open, by folder or by registered version (versionKey: its archived
  // bundle, checked against its id as it is opened), within VIGIL_MODEL_POOL_BYTES (idle ones are closed to make room).
  const pool = new ModelPool({
    maxBytes: config.modelPoolBytes,
    open: async (key) => {
      const directory = key.startsWith(VERSION_KEY) ? await archive.open(key.slice(VERSION_KEY.length)) : key;
      return loadModel({ bundles, runner, audit: openAudit(), logger, versionOf: bundleVersionOf }, directory);
    },
  });

  // The model registry: its records in the store, the bundles' bytes in VIGIL_DATA_DIR/registry.
  let registryDeps: Promise<RegistryDependencies> | undefined;
  const openRegistry = (): Promise<RegistryDependencies> =>
    (registryDeps ??= parts.stores.openModelRegistry().then((registry) => ({
      registry,
      archive,
      hasher: nodeHasher,
      clock: systemClock,
      loadBundle: (directory: string) => bundles.loadBundle(directory),
      readEvaluations: readEvaluationSummaries,
      recordAudit: (event: AuditEvent) => openAudit().append(event),
    })));
  // calibrate and policy register what they derive as a child of the version they derived it from.
  const registerDerived = async (sourceDir: string, outDir: string, derivedBy: string, datasetSha256: unknown) => {
    const deps = await openRegistry();
    const parent = await registerModel(deps, { directory: sourceDir, actor: 'local-cli' });
    const child = await registerModel(deps, {
      directory: outDir,
      parent: parent.version.versionId,
      actor: 'local-cli',
      lineage: { derivedBy, ...(typeof datasetSha256 === 'string' ? { validationDataSha256: datasetSha256 } : {}) },
    });
    return { parent: parent.version, version: child.version };
  };

  // Evaluation, calibration and policy fitting judge no patient: their model sessions are not
  // recorded in the audit log (evaluations record their criteria, start and reports, not model
  // loads), and share nothing with the decision path but the adapters.
  const evaluationModels = new Map<string, Promise<{ bundle: ModelBundle; session: ModelSession }>>();
  const evaluationDeps = (): DeriveDependencies => ({
    data: new FsEvaluationDataSource({ maxInputBytes: config.maxInputBytes }),
    output: new FsEvaluationOutput(),
    clock: systemClock,
    inputs,
    batchSize: config.batchSize,
    vigilVersion: VIGIL_VERSION,
    openModel: (directory) => {
      let loaded = evaluationModels.get(directory);
      if (loaded === undefined) {
        loaded = bundles.loadBundle(directory).then(async (bundle) => ({ bundle, session: await runner.createSession(bundle) }));
        evaluationModels.set(directory, loaded);
      }
      return loaded;
    },
  });

  return {
    bundles,
    runner,
    inputs,
    pool,
    openRegistry,
    registerDerived,
    evaluationDeps,
    async close() {
      await pool.close();
      for (const loaded of evaluationModels.values()) await loaded.then((m) => m.session.close()).catch(() => undefined);
    },
  };
}
