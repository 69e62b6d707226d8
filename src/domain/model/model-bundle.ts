import { describeValidationIssues } from '../validation-issues.js';
import type { ModelIdentity } from '../audit/audit-event.js';
import { PlatformError } from '../errors.js';
import { modelManifestSchema, type ModelManifest } from './model-manifest.js';

/** A loaded, verified model bundle: the manifest and the exact model bytes whose hash was checked. */
export interface ModelBundle {
  readonly manifest: ModelManifest;
  readonly modelBytes: Uint8Array;
  readonly identity: ModelIdentity;
}

/**
 * Validates a parsed `vigil-model.json`. The error names every wrong field by its path; it never
 * quotes the value found there (zod's reportInput stays off).
 */
export function parseModelManifest(json: unknown): ModelManifest {
  const result = modelManifestSchema.safeParse(json);
  if (result.success) return result.data;
  const problems = describeValidationIssues(result.error.issues, { nameUnknownFields: true });
  const first = result.error.issues[0];
  throw new PlatformError('MODEL_MANIFEST_INVALID', `vigil-model.json is invalid: ${problems.join('; ')}`, {
    field: first === undefined ? '(root)' : first.path.join('.'),
    problems: problems.length,
  });
}

export function identifyModel(manifest: ModelManifest): ModelIdentity {
  return { id: manifest.id, version: manifest.version, sha256: manifest.model.sha256 };
}
