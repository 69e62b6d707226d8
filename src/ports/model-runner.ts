import type { ModelBundle } from '../domain/model/model-bundle.js';

export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface ModelSession {
  /** e.g. "cpu" or "cuda". */
  readonly executionProvider: string;
  /**
   * Runs one batch: `input` holds `batchSize` images in NCHW order. Returns the manifest's outputs by
   * name, and its `embedding` output ([batchSize, dimension]) when it declares one.
   */
  run(input: Float32Array, batchSize: number): Promise<Readonly<Record<string, OutputTensor>>>;
  close(): Promise<void>;
}

/** One input or output of a model file, as the runtime reads it. */
export interface TensorSignature {
  readonly name: string;
  /** e.g. "float32"; null for a value that is not a tensor (a sequence, a map). */
  readonly dtype: string | null;
  /** Each dimension: a size, or null when it is dynamic (symbolic, such as the batch). Empty when not a tensor. */
  readonly shape: readonly (number | null)[];
}

/** What a model file says of itself: its inputs and outputs, in order. */
export interface ModelSignature {
  readonly inputs: readonly TensorSignature[];
  readonly outputs: readonly TensorSignature[];
}

export interface ModelRunner {
  /** Creates an inference session for a verified bundle; checks the model's inputs and outputs against the manifest. */
  createSession(bundle: ModelBundle): Promise<ModelSession>;
  /**
   * Loads a model file that has no manifest yet and reads its inputs and outputs (for `vigil model
   * init`). Throws MODEL_INIT_ONNX_UNREADABLE when the runtime cannot load it.
   */
  describeModel(modelBytes: Uint8Array): Promise<ModelSignature>;
}

export interface ModelBundleSource {
  /** Loads `vigil-model.json` and the model file from a bundle folder and checks the model's SHA-256. */
  loadBundle(directory: string): Promise<ModelBundle>;
  /** Reads a model file that is not in a bundle yet (`vigil model init --onnx FILE`); MODEL_BUNDLE_NOT_FOUND when it cannot be read. */
  readModelFile(path: string): Promise<Uint8Array>;
}
