import { applyDeclaration, prepareImage, scoreImage, stackTensors, type PreparedImage, type ScoredFinding } from '../domain/inference/inference-steps.js';
import type { ImageFrame, PatientAgeYears, RasterDeclaration } from '../domain/image/image-frame.js';
import type { ModelBundle } from '../domain/model/model-bundle.js';
import type { ModelSession } from '../ports/model-runner.js';

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
    if (images.length === 0) return [];
    const outputs = await this.#session.run(stackTensors(images.map((i) => i.tensor)), images.length);
    return images.map((image, b) => scoreImage(this.bundle.manifest, outputs, images.length, b, image.gate));
  }
}
