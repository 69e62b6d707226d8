import type { ModelManifest } from '../domain/model/model-manifest.js';
import type { ModelBundleSource } from '../ports/model-runner.js';

export interface ModelInspection {
  readonly manifest: ModelManifest;
  /** True: the model file's SHA-256 matched the manifest (a mismatch throws MODEL_HASH_MISMATCH instead). */
  readonly hashVerified: true;
  readonly modelBytes: number;
}

/** `vigil model inspect`: loads the bundle, which validates the manifest and checks the model's hash. */
export async function inspectModel(deps: { readonly bundles: ModelBundleSource }, directory: string): Promise<ModelInspection> {
  const bundle = await deps.bundles.loadBundle(directory);
  return { manifest: bundle.manifest, hashVerified: true, modelBytes: bundle.modelBytes.byteLength };
}
