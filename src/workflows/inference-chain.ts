import { applyDeclaration, prepareImage, scoreImage, stackTensors, type PreparedImage, type ScoredFinding } from '../domain/inference/inference-steps.js';
import type { ImageFrame, PatientAgeYears, RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { ModelSession } from '../ports/model-runner.js';
import { PlatformError } from '../domain/errors.js';

/** One image as the model judged it: every declared finding, and its embedding when the manifest declares one. */
export interface InferredImage {
  readonly findings: ScoredFinding[];
  readonly embedding: Float32Array | null;
}

/**
 * Vigil's one inference chain: decode → preprocess → gate → batch → run → calibrate → decide, for one
 * model version. `vigil predict`, the server's judging of a study and `vigil evaluate` / `calibrate` /
 * `policy` all judge images through it; they differ only in what they read and what they do with
 * the outcome (audit and deliver, or measure).
 */
export class InferenceChain {
  readonly bundle: ModelBundle;
  readonly #session: ModelSession;

  constructor(bundle: ModelBundle, session: ModelSession) {
    this.bundle = bundle;
    this.#session = session;
  }

  /**
   * Makes a decoded frame ready for the model: what was declared about a PNG/JPEG applied, the
   * manifest's preprocessing, the image features and the gate's verdict (which may reject it).
   */
  prepare(frame: ImageFrame, patientAgeYears: PatientAgeYears | undefined, declared?: RasterDeclaration): PreparedImage & { readonly frame: ImageFrame } {
    const described = applyDeclaration(frame, declared);
    return { ...prepareImage(described, this.bundle.manifest, patientAgeYears), frame: described };
  }

  /**
   * Runs one batch of prepared images (those the gate did not reject) and returns, per image in
   * order, every declared finding raw, calibrated and decided. Throws the runner's error, or
   * MODEL_OUTPUT_INVALID for an output that does not match the manifest.
   */
  async infer(images: readonly Pick<PreparedImage, 'tensor' | 'gate'>[]): Promise<ScoredFinding[][]> {
    return (await this.inferImages(images)).map((i) => i.findings);
  }

  /**
   * As `infer`, with each image's embedding (the manifest's `embedding` output, `dimension` values; a
   * copy, not a view of the batch) for production monitoring, or null when the manifest declares none.
   */
  async inferImages(images: readonly Pick<PreparedImage, 'tensor' | 'gate'>[]): Promise<InferredImage[]> {
    if (images.length === 0) return [];
    const { manifest } = this.bundle;
    const outputs = await this.#session.run(stackTensors(images.map((i) => i.tensor)), images.length);
    const spec = manifest.embedding;
    const embeddings = spec === undefined ? undefined : outputs[spec.output];
    if (spec !== undefined && (embeddings === undefined || embeddings.data.length !== images.length * spec.dimension)) {
      throw new PlatformError('MODEL_OUTPUT_INVALID', `The model gave no embedding output "${spec.output}" of ${spec.dimension} values per image`, {
        output: spec.output,
      });
    }
    return images.map((image, b) => ({
      findings: scoreImage(manifest, outputs, images.length, b, image.gate),
      embedding: spec === undefined || embeddings === undefined ? null : embeddings.data.slice(b * spec.dimension, (b + 1) * spec.dimension),
    }));
  }
}
