import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { identifyModel, parseModelManifest, type ModelBundle } from '../../domain/model/model-bundle.js';
import type { ModelBundleSource } from '../../ports/model-runner.js';

export const MANIFEST_FILE = 'vigil-model.json';

/** Reads a bundle folder: `vigil-model.json` + the model file, whose SHA-256 must match the manifest. */
export class FsModelBundleSource implements ModelBundleSource {
  async loadBundle(directory: string): Promise<ModelBundle> {
    const manifestPath = join(directory, MANIFEST_FILE);
    const isFolder = await stat(directory).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isFolder) throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', 'The model bundle folder does not exist', {});
    let text: string;
    try {
      text = await readFile(manifestPath, 'utf8');
    } catch (cause) {
      throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', `The model bundle has no ${MANIFEST_FILE}`, {}, { cause });
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      throw new PlatformError('MODEL_MANIFEST_INVALID', `${MANIFEST_FILE} is not valid JSON`, { field: '(root)' }, { cause });
    }
    const manifest = parseModelManifest(json);
    let modelBytes: Uint8Array;
    try {
      modelBytes = await readFile(join(directory, manifest.model.file));
    } catch (cause) {
      throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', `The model file named by model.file is missing`, { model: manifest.id }, { cause });
    }
    const actual = createHash('sha256').update(modelBytes).digest('hex');
    if (actual !== manifest.model.sha256) {
      throw new PlatformError('MODEL_HASH_MISMATCH', `The model file's SHA-256 does not match model.sha256 in ${MANIFEST_FILE}`, {
        model: manifest.id,
        expected: manifest.model.sha256,
        actual,
      });
    }
    return { manifest, modelBytes, identity: identifyModel(manifest) };
  }

  async readModelFile(path: string): Promise<Uint8Array> {
    try {
      return await readFile(path);
    } catch (cause) {
      throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', 'The model file cannot be read', {}, { cause });
    }
  }
}
