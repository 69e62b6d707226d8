import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PlatformError } from '../../domain/errors.js';
import { identifyModel, parseModelManifest, type ModelBundle } from '../../domain/model/model-bundle.js';
import type { ModelBundleSource } from '../../ports/model-runner.js';
import { readRegularFile } from '../files-fs/read-bounded-file.js';

export const MANIFEST_FILE = 'vigil-model.json';
/** A manifest is a page of JSON; a megabyte is far more than any holds. */
const MANIFEST_MAX_BYTES = 1024 * 1024;
/** ONNX's protobuf format stops at 2 GiB; VIGIL_MAX_MODEL_BYTES by default. */
const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;

export interface FsModelBundleSourceOptions {
  /** The largest model file read (VIGIL_MAX_MODEL_BYTES). */
  readonly maxModelBytes?: number;
}

/**
 * Reads a bundle folder: `vigil-model.json` + the model file, whose SHA-256 must match the manifest.
 * Every file is read bounded (files-fs/read-bounded-file.ts): a regular file within its limit, or a
 * coded INPUT_* error before a byte is read (a model file linked to /dev/zero is refused, not read).
 */
export class FsModelBundleSource implements ModelBundleSource {
  readonly #maxModelBytes: number;

  constructor(options: FsModelBundleSourceOptions = {}) {
    this.#maxModelBytes = options.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES;
  }

  async loadBundle(directory: string): Promise<ModelBundle> {
    const isFolder = await stat(directory).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!isFolder) throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', 'The model bundle folder does not exist', {});
    let text: string;
    try {
      text = new TextDecoder().decode(await readRegularFile(join(directory, MANIFEST_FILE), `bundle's ${MANIFEST_FILE}`, MANIFEST_MAX_BYTES));
    } catch (cause) {
      if (cause instanceof PlatformError && cause.code === 'INPUT_NOT_FOUND')
        throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', `The model bundle has no ${MANIFEST_FILE}`, {}, { cause });
      throw cause;
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
      modelBytes = await readRegularFile(join(directory, manifest.model.file), 'model file named by model.file', this.#maxModelBytes);
    } catch (cause) {
      if (cause instanceof PlatformError && cause.code === 'INPUT_NOT_FOUND')
        throw new PlatformError('MODEL_BUNDLE_NOT_FOUND', `The model file named by model.file is missing`, { model: manifest.id }, { cause });
      throw cause;
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

  /** A model file a user named (`vigil model init --onnx FILE`): INPUT_NOT_FOUND, INPUT_UNREADABLE or INPUT_TOO_LARGE (VIGIL_MAX_MODEL_BYTES) when it cannot be. */
  async readModelFile(path: string): Promise<Uint8Array> {
    return readRegularFile(path, 'model file (--onnx)', this.#maxModelBytes);
  }
}
