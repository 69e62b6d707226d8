import ort from 'onnxruntime-node';
import { PlatformError } from '../../domain/errors.js';
import type { ModelBundle } from '../../domain/model/model-bundle.js';
import type { ModelRunner, ModelSession, ModelSignature, OutputTensor, TensorSignature } from '../../ports/model-runner.js';

export interface OnnxRunnerOptions {
  /** `cpu` (default) or `cuda`; CUDA is an option where a GPU and its libraries exist, never required. */
  readonly executionProvider: 'cpu' | 'cuda';
  /** Intra-op threads; 0 lets ONNX Runtime choose (one per core). */
  readonly intraOpThreads: number;
}

/** The only place that imports onnxruntime-node. */
export class OnnxModelRunner implements ModelRunner {
  constructor(private readonly options: OnnxRunnerOptions) {}

  async createSession(bundle: ModelBundle): Promise<ModelSession> {
    const { manifest } = bundle;
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bundle.modelBytes, {
        executionProviders: [this.options.executionProvider],
        intraOpNumThreads: this.options.intraOpThreads,
        graphOptimizationLevel: 'all',
        logSeverityLevel: 3,
      });
    } catch (cause) {
      throw new PlatformError(
        'MODEL_LOAD_FAILED',
        `ONNX Runtime could not load model "${manifest.id}"`,
        { model: manifest.id, executionProvider: this.options.executionProvider },
        { cause },
      );
    }
    checkSignature(session, bundle);
    return new OnnxModelSession(session, bundle, this.options.executionProvider);
  }

  async describeModel(modelBytes: Uint8Array): Promise<ModelSignature> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelBytes, { executionProviders: ['cpu'], logSeverityLevel: 3 });
    } catch (cause) {
      throw new PlatformError('MODEL_INIT_ONNX_UNREADABLE', 'ONNX Runtime could not load the model file', { bytes: modelBytes.length }, { cause });
    }
    try {
      return { inputs: session.inputMetadata.map(signatureOf), outputs: session.outputMetadata.map(signatureOf) };
    } finally {
      await session.release();
    }
  }
}

/** ONNX Runtime gives a dynamic dimension as its symbol (a string) or as -1 / 0; both become null. */
function signatureOf(m: ort.InferenceSession.ValueMetadata): TensorSignature {
  if (!m.isTensor) return { name: m.name, dtype: null, shape: [] };
  return { name: m.name, dtype: m.type, shape: m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : null)) };
}

function checkSignature(session: ort.InferenceSession, bundle: ModelBundle): void {
  const { manifest } = bundle;
  const input = session.inputMetadata.find((m) => m.name === manifest.input.name);
  if (input === undefined) {
    throw new PlatformError('MODEL_INPUT_SHAPE_MISMATCH', `The model has no input named "${manifest.input.name}" (it has: ${session.inputNames.join(', ')})`, {
      model: manifest.id,
      expectedInput: manifest.input.name,
    });
  }
  if (input.isTensor) {
    if (input.type !== 'float32') {
      throw new PlatformError('MODEL_INPUT_SHAPE_MISMATCH', `Input "${input.name}" is ${input.type}, the manifest says float32`, {
        model: manifest.id,
        dtype: input.type,
      });
    }
    const declared = manifest.input.shape;
    const actual = input.shape;
    const fixedMismatch = actual.length !== declared.length || actual.some((d, i) => i > 0 && typeof d === 'number' && d !== declared[i]);
    if (fixedMismatch) {
      throw new PlatformError(
        'MODEL_INPUT_SHAPE_MISMATCH',
        `Input "${input.name}" has shape [${actual.join(',')}], the manifest declares [${declared.join(',')}]`,
        {
          model: manifest.id,
          actual: actual.join(','),
          declared: declared.join(','),
        },
      );
    }
  }
  for (const output of manifest.outputs) {
    if (!session.outputNames.includes(output.name)) {
      throw new PlatformError('MODEL_OUTPUT_INVALID', `The model has no output named "${output.name}" (it has: ${session.outputNames.join(', ')})`, {
        model: manifest.id,
        expectedOutput: output.name,
      });
    }
  }
  const embedding = manifest.embedding;
  if (embedding !== undefined) {
    const meta = session.outputMetadata.find((m) => m.name === embedding.output);
    if (meta === undefined) {
      throw new PlatformError(
        'MODEL_OUTPUT_INVALID',
        `The model has no output named "${embedding.output}", which the manifest's embedding names (it has: ${session.outputNames.join(', ')})`,
        { model: manifest.id, expectedOutput: embedding.output },
      );
    }
    // [N, dimension]: a batch dimension, then the declared size (when the file fixes it).
    const shape = meta.isTensor ? signatureOf(meta).shape : [];
    const last = shape[1];
    if (!meta.isTensor || meta.type !== 'float32' || shape.length !== 2 || (last !== null && last !== embedding.dimension)) {
      throw new PlatformError(
        'MODEL_OUTPUT_INVALID',
        `Embedding output "${embedding.output}" is ${meta.isTensor ? `${meta.type} [${shape.map((d) => d ?? '?').join(', ')}]` : 'not a tensor'}, the manifest declares float32 [N, ${embedding.dimension}]`,
        { model: manifest.id, output: embedding.output, dimension: embedding.dimension },
      );
    }
  }
}

class OnnxModelSession implements ModelSession {
  private readonly perImage: number;
  /** The outputs fetched per batch: the findings' outputs, then the embedding when the manifest declares one. */
  private readonly fetched: readonly string[];

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly bundle: ModelBundle,
    readonly executionProvider: string,
  ) {
    const [, c, h, w] = bundle.manifest.input.shape;
    this.perImage = c * h * w;
    const embedding = bundle.manifest.embedding?.output;
    this.fetched = [...bundle.manifest.outputs.map((o) => o.name), ...(embedding === undefined ? [] : [embedding])];
  }

  async run(input: Float32Array, batchSize: number): Promise<Readonly<Record<string, OutputTensor>>> {
    const { manifest } = this.bundle;
    if (input.length !== batchSize * this.perImage) {
      throw new PlatformError('MODEL_INPUT_SHAPE_MISMATCH', `Batch holds ${input.length} values, expected ${batchSize} × ${this.perImage}`, {
        model: manifest.id,
        values: input.length,
        batchSize,
      });
    }
    const [, c, h, w] = manifest.input.shape;
    const feeds = { [manifest.input.name]: new ort.Tensor('float32', input, [batchSize, c, h, w]) };
    let results: ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run(feeds, [...this.fetched]);
    } catch (cause) {
      throw new PlatformError('MODEL_INFERENCE_FAILED', `Inference failed for model "${manifest.id}"`, { model: manifest.id, batchSize }, { cause });
    }
    const outputs: Record<string, OutputTensor> = {};
    for (const name of this.fetched) {
      const value = results[name];
      if (value === undefined || value.type !== 'float32' || !(value.data instanceof Float32Array)) {
        throw new PlatformError('MODEL_OUTPUT_INVALID', `Output "${name}" is missing or not float32`, { model: manifest.id, output: name });
      }
      if (value.dims[0] !== batchSize || value.data.length % batchSize !== 0) {
        throw new PlatformError('MODEL_OUTPUT_INVALID', `Output "${name}" has dims [${value.dims.join(',')}] for a batch of ${batchSize}`, {
          model: manifest.id,
          output: name,
        });
      }
      outputs[name] = { data: value.data, dims: value.dims };
    }
    const embedding = manifest.embedding;
    if (embedding !== undefined && outputs[embedding.output]!.data.length !== batchSize * embedding.dimension) {
      throw new PlatformError(
        'MODEL_OUTPUT_INVALID',
        `Embedding output "${embedding.output}" has dims [${outputs[embedding.output]!.dims.join(',')}] for a batch of ${batchSize}`,
        {
          model: manifest.id,
          output: embedding.output,
          dimension: embedding.dimension,
        },
      );
    }
    return outputs;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
