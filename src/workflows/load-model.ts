import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { AuditLog } from '../ports/audit-log.js';
import type { Logger } from '../ports/logger.js';
import type { ModelBundleSource, ModelRunner, ModelSession } from '../ports/model-runner.js';

export interface LoadedModel {
  readonly bundle: ModelBundle;
  readonly session: ModelSession;
}

/** Loads and verifies a bundle, opens its inference session, and records the load in the audit log. */
export async function loadModel(
  deps: {
    readonly bundles: ModelBundleSource;
    readonly runner: ModelRunner;
    readonly audit: AuditLog;
    readonly logger: Logger;
    /** The bundle folder's registry version id (SHA-256 of its canonical listing). */
    readonly versionOf?: (directory: string) => Promise<string>;
  },
  directory: string,
): Promise<LoadedModel> {
  const started = performance.now();
  const bundle = await deps.bundles.loadBundle(directory);
  const session = await deps.runner.createSession(bundle);
  const versionId = await deps.versionOf?.(directory);
  // The version id joins the identity every decision records: with the site, the deployment key.
  const identity = versionId === undefined ? bundle.identity : { ...bundle.identity, versionId };
  await deps.audit.append({
    type: 'model_loaded',
    model: bundle.identity,
    executionProvider: session.executionProvider,
    ...(versionId === undefined ? {} : { versionId }),
  });
  deps.logger.info(
    { model: bundle.identity.id, modelVersion: bundle.identity.version, executionProvider: session.executionProvider, durationMs: performance.now() - started },
    'model loaded',
  );
  return { bundle: { ...bundle, identity }, session };
}
