/**
 * The composition root: the only file that wires adapters into workflows. The CLI (and later the
 * HTTP server) receive the finished services and never see an adapter.
 */
import { canonicalJson } from './domain/audit/canonical-json.js';
import { verifyInclusionProof } from './domain/audit/verify-inclusion-proof.js';
import { toPlatformError } from './domain/errors.js';
import { EXIT_CODES } from './cli/exit-codes.js';
import { DcmjsDicomReader } from './adapters/dicom-dcmjs/dcmjs-dicom-reader.js';
import { SharpRasterReader } from './adapters/image-sharp/sharp-raster-reader.js';
import { OnnxModelRunner } from './adapters/onnx-runtime/onnx-model-runner.js';
import { FsModelBundleSource } from './adapters/model-bundle-fs/fs-model-bundle-source.js';
import { SqliteAuditLog } from './adapters/store-sqlite/sqlite-audit-log.js';
import { FsInputFiles } from './adapters/files-fs/fs-input-files.js';
import { HmacPseudonymizer } from './adapters/crypto-node/hmac-pseudonymizer.js';
import { nodeHasher } from './adapters/crypto-node/node-hasher.js';
import { sha256 } from './adapters/crypto-node/sha256.js';
import { loadOrCreateSiteSecret } from './adapters/crypto-node/site-secret.js';
import { verifyTreeHeadSignature } from './adapters/crypto-node/verify-tree-head.js';
import { prepareDemoInputs } from './adapters/demo-inputs/prepare-demo-inputs.js';
import { runCli } from './cli/run-cli.js';
import { loadConfig, type VigilConfig } from './config/load-config.js';
import { createLogger } from './logging/create-logger.js';
import type { AuditLog } from './ports/audit-log.js';
import type { Clock } from './ports/clock.js';
import type { Logger } from './ports/logger.js';
import { inspectModel } from './workflows/inspect-model.js';
import { loadModel, type LoadedModel } from './workflows/load-model.js';
import { predictImages } from './workflows/predict-images.js';
import type { VigilServices } from './workflows/vigil-services.js';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';

const systemClock: Clock = { now: () => new Date() };

export const VIGIL_VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** SHA-256 of the configuration as it affects results (the secret file's location is left out). */
export function hashConfig(config: VigilConfig): string {
  const { secretFile: _secret, ...rest } = config;
  return nodeHasher.sha256Hex(canonicalJson(rest));
}

/** Wires the services for one process. Parts open on first use; `close()` releases them. */
export function createServices(config: VigilConfig, logger: Logger): VigilServices {
  const configHash = hashConfig(config);
  const bundles = new FsModelBundleSource();
  const runner = new OnnxModelRunner({ executionProvider: config.executionProvider, intraOpThreads: config.intraOpThreads });
  const dicom = new DcmjsDicomReader();
  const raster = new SharpRasterReader();
  const files = new FsInputFiles(config.maxInputBytes);
  let audit: AuditLog | undefined;
  const models = new Map<string, Promise<LoadedModel>>();
  let pseudonymizer: Promise<HmacPseudonymizer> | undefined;

  const openAudit = (): AuditLog => {
    if (audit === undefined) {
      audit = SqliteAuditLog.open({ dataDir: config.dataDir, clock: systemClock });
      logger.info({ configHash }, 'audit log opened');
    }
    return audit;
  };
  // The configuration that decisions are made under is recorded once per process, before the first
  // decision; read-only commands (verify, prove) leave the log as it is.
  let configRecorded = false;
  const openAuditForDecisions = async (): Promise<AuditLog> => {
    const log = openAudit();
    if (!configRecorded) {
      await log.append({ type: 'config_loaded', configHash, vigilVersion: VIGIL_VERSION });
      configRecorded = true;
    }
    return log;
  };
  // One session per model folder for the life of the process.
  const model = (directory: string): Promise<LoadedModel> => {
    let loaded = models.get(directory);
    if (loaded === undefined) {
      loaded = loadModel({ bundles, runner, audit: openAudit(), logger }, directory);
      models.set(directory, loaded);
    }
    return loaded;
  };

  return {
    async predict(paths, options, emit, onProgress) {
      const auditLog = await openAuditForDecisions();
      const { bundle, session } = await model(options.modelDir ?? config.modelDir);
      pseudonymizer ??= loadOrCreateSiteSecret(config.secretFile ?? join(config.dataDir, 'site-secret')).then((s) => new HmacPseudonymizer(s));
      return predictImages(
        {
          files,
          dicom,
          raster,
          hasher: nodeHasher,
          pseudonymizer: await pseudonymizer,
          audit: auditLog,
          logger,
          bundle,
          session,
          configHash,
          batchSize: config.batchSize,
          ...(options.declared === undefined ? {} : { declared: options.declared }),
        },
        paths,
        emit,
        onProgress,
      );
    },
    verifyAudit() {
      return openAudit().verify();
    },
    async proveAudit(auditId) {
      const proof = await openAudit().prove(auditId);
      const verified = verifyInclusionProof(proof, sha256).ok && verifyTreeHeadSignature(proof.treeHead);
      return { proof, verified };
    },
    inspectModel(directory) {
      return inspectModel({ bundles }, directory);
    },
    prepareDemo() {
      return prepareDemoInputs(config.sampleDataDir, config.dataDir);
    },
    async close() {
      for (const loaded of models.values()) await loaded.then((m) => m.session.close()).catch(() => undefined);
      await audit?.close();
    },
  };
}

/** Entry point for bin/vigil.js: returns the process exit code. */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env, cwd = process.cwd()): Promise<number> {
  const io = {
    stdout: (text: string) => void process.stdout.write(text),
    stderr: (text: string) => void process.stderr.write(text),
    interactive: process.stderr.isTTY,
  };
  let config: VigilConfig;
  try {
    config = loadConfig(env, cwd);
  } catch (cause) {
    const error = toPlatformError(cause);
    io.stderr(`vigil: ${error.code}: ${error.message}\n`);
    return EXIT_CODES[error.code];
  }
  const logger = createLogger(config.logLevel);
  return runCli(argv, () => createServices(config, logger), io);
}
