import type { ModelBundle } from '../domain/model/model-bundle.js';

export interface OutputTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

export interface ModelSession {
  /** e.g. "cpu" or "cuda". */
  readonly executionProvider: string;
  /** Runs one batch: `input` holds `batchSize` images in NCHW order. Returns the manifest's outputs by name. */
  run(input: Float32Array, batchSize: number): Promise<Readonly<Record<string, OutputTensor>>>;
  close(): Promise<void>;
}

export interface ModelRunner {
  /** Creates an inference session for a verified bundle; checks the model's inputs and outputs against the manifest. */
  createSession(bundle: ModelBundle): Promise<ModelSession>;
}

export interface ModelBundleSource {
  /** Loads `vigil-model.json` and the model file from a bundle folder and checks the model's SHA-256. */
  loadBundle(directory: string): Promise<ModelBundle>;
}
