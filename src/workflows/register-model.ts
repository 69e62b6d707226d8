import type { AuditEvent } from '../domain/audit/audit-event.js';
import { PlatformError } from '../domain/errors.js';
import { pickUniqueId } from '../domain/id-prefix.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import { renderModelCard, type EvaluationSummary } from '../domain/registry/model-card.js';
import { canonicalBundleListing, type ModelLineage, type ModelVersion } from '../domain/registry/model-version.js';
import type { Clock } from '../ports/clock.js';
import type { Hasher } from '../ports/hasher.js';
import type { BundleArchive, ModelRegistry } from '../ports/model-registry.js';

export interface RegistryDependencies {
  readonly registry: ModelRegistry;
  readonly archive: BundleArchive;
  readonly hasher: Hasher;
  readonly clock: Clock;
  /** Loads and verifies a bundle folder (manifest schema, model file hash). */
  readonly loadBundle: (directory: string) => Promise<ModelBundle>;
  /** The evaluation reports a bundle folder ships (reports/<name>/report.json), summarised; none when it has none. */
  readonly readEvaluations: (directory: string) => Promise<readonly EvaluationSummary[]>;
  /** Appends to the audit log; resolves once durable. */
  readonly recordAudit: (event: AuditEvent) => Promise<unknown>;
}

export interface RegisterRequest {
  readonly directory: string;
  /** The parent's version id (or a unique prefix); default: the registered version the manifest's `parent` names. */
  readonly parent?: string;
  readonly lineage?: Partial<Omit<ModelLineage, 'trainingDataSha256'>>;
  /** A user name, or `local-cli`. */
  readonly actor: string;
}

/**
 * Registers a bundle folder as an immutable version: verifies it loads, addresses it by the SHA-256
 * of its canonical listing, copies it into the archive (checked against that address), links its
 * parent, and records it — the registry row, then the audit entry. Registering the same bytes again
 * returns the version registered first, and records nothing new.
 */
export async function registerModel(
  deps: RegistryDependencies,
  request: RegisterRequest,
): Promise<{ readonly version: ModelVersion; readonly created: boolean }> {
  const bundle = await deps.loadBundle(request.directory);
  const files = await deps.archive.listBundle(request.directory);
  const versionId = deps.hasher.sha256Hex(new TextEncoder().encode(canonicalBundleListing(files)));
  const existing = await deps.registry.get(versionId);
  if (existing !== undefined) return { version: existing, created: false };

  const parentVersionId = await resolveParent(deps, bundle, request.parent);
  await deps.archive.keep(request.directory, versionId);
  const version: ModelVersion = {
    versionId,
    model: bundle.identity,
    name: bundle.manifest.name,
    parentVersionId,
    lineage: {
      trainingDataSha256: bundle.manifest.trainingData.sha256,
      validationDataSha256: request.lineage?.validationDataSha256 ?? null,
      codeReference: request.lineage?.codeReference ?? null,
      derivedBy: request.lineage?.derivedBy ?? null,
    },
    files: files.length,
    bytes: files.reduce((sum, f) => sum + f.bytes, 0),
    registeredAt: deps.clock.now().toISOString(),
    registeredBy: request.actor,
  };
  const recorded = await deps.registry.register(version);
  if (recorded.created) {
    await deps.recordAudit({
      type: 'model_registered',
      versionId,
      model: version.model,
      parentVersionId,
      lineage: version.lineage,
      registeredBy: request.actor,
    });
  }
  return recorded;
}

async function resolveParent(deps: RegistryDependencies, bundle: ModelBundle, given: string | undefined): Promise<string | null> {
  if (given !== undefined) return (await findVersion(deps.registry, given)).versionId;
  const named = bundle.manifest.parent;
  if (named === undefined) return null;
  const candidates = await deps.registry.withIdentity(named);
  if (candidates[0] === undefined) {
    throw new PlatformError('MODEL_PARENT_UNREGISTERED', `The bundle's parent ${named.id} ${named.version} is not registered`, {});
  }
  // A manifest names its parent by identity; of several versions with it, the latest registered.
  return candidates[0].versionId;
}

/** A version by its id or a unique prefix of at least 8 hex digits. */
export async function findVersion(registry: ModelRegistry, idOrPrefix: string): Promise<ModelVersion> {
  const wanted = idOrPrefix.toLowerCase();
  if (!/^[0-9a-f]{8,64}$/.test(wanted)) throw new PlatformError('MODEL_VERSION_NOT_FOUND', 'A version id is 8 to 64 hex digits', {});
  if (wanted.length === 64) {
    const found = await registry.get(wanted);
    if (found === undefined) throw new PlatformError('MODEL_VERSION_NOT_FOUND', 'No model version has this id', {});
    return found;
  }
  const versions = (await registry.list()).filter((v) => v.versionId.startsWith(wanted));
  const id = pickUniqueId(
    versions.map((v) => v.versionId),
    { code: 'MODEL_VERSION_NOT_FOUND', noun: 'model version' },
  );
  const version = versions.find((v) => v.versionId === id);
  if (version === undefined) throw new PlatformError('MODEL_VERSION_NOT_FOUND', 'No model version has this id', {});
  return version;
}

/** A version's model card, generated from its archived bundle (verified against its id first). */
export async function modelCardOf(deps: RegistryDependencies, idOrPrefix: string): Promise<{ readonly version: ModelVersion; readonly card: string }> {
  const version = await findVersion(deps.registry, idOrPrefix);
  const folder = await deps.archive.open(version.versionId);
  const bundle = await deps.loadBundle(folder);
  return { version, card: renderModelCard(bundle.manifest, version, await deps.readEvaluations(folder)) };
}
