import { PlatformError } from '../errors.js';
import type { ImageFrame } from '../image/image-frame.js';
import type { ModelManifest, PreprocessingStep } from '../model/model-manifest.js';
import { applyRange, applyRescale, applyWindow, invert01, percentiles, resize, toFloat, toGrayscale, type Raster } from './pixel-ops.js';

/** BT.601 luma, used for the analysis image of a colour input when the chain keeps colour. */
const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

export interface PreprocessedFrame {
  /** Model input for one image, C × H × W (NCHW without N). */
  readonly tensor: Float32Array;
  /** Single-channel image in [0, 1] at the model's input size: what the gate's features are measured on. */
  readonly analysis: Float32Array;
  readonly width: number;
  readonly height: number;
  /** The window actually applied, for the record (VOI from the file, a percentile window, or full range). */
  readonly window: { readonly kind: 'dicom' | 'percentile' | 'full_range'; readonly low: number; readonly high: number };
}

/**
 * Runs the manifest's declared preprocessing on one frame. Every step is a pure array function; a
 * failing step is wrapped with its name (as MONAI's apply_transform does).
 *
 * PNG and JPEG values are already presentation values (the output of a VOI LUT), so a `voi_window`
 * step maps a raster image's full bit range to [0, 1] instead of windowing it again.
 */
export function preprocessFrame(frame: ImageFrame, manifest: Pick<ModelManifest, 'preprocessing' | 'input'>): PreprocessedFrame {
  const [, channels, height, width] = manifest.input.shape;
  let image: Raster = toFloat(frame.pixels, frame.columns, frame.rows, frame.samplesPerPixel);
  let windowed = false;
  let window: PreprocessedFrame['window'] = { kind: 'full_range', low: 0, high: 2 ** frame.attributes.bitsStored - 1 };
  let analysis: Raster | undefined;
  // The last `normalize` is not applied on its own: it is folded into the pass that writes the planar
  // tensor (see writeTensor), which saves two full-size arrays (replicated and normalized) per image.
  // A step after it (no shipped manifest has one) gets the normalized image, as before.
  let pendingNormalize: Extract<PreprocessingStep, { op: 'normalize' }> | undefined;

  for (const step of manifest.preprocessing) {
    try {
      if (pendingNormalize !== undefined) {
        image = normalize(image.channels === 1 && channels === 3 ? replicateGrey(image) : image, pendingNormalize.mean, pendingNormalize.std);
        pendingNormalize = undefined;
      }
      switch (step.op) {
        case 'modality_lut':
          // The modality LUT applies to grey images only (PS3.3 C.7.6.3.1.1: colour has no rescale).
          if (image.channels === 1) image = applyRescale(image, frame.attributes.rescaleSlope, frame.attributes.rescaleIntercept);
          break;
        case 'voi_window': {
          const result = applyVoiStep(image, frame, step);
          image = result.image;
          window = result.window;
          windowed = true;
          break;
        }
        case 'invert_monochrome1':
          if (frame.attributes.photometricInterpretation === 'MONOCHROME1') image = invert01(image);
          break;
        case 'to_grayscale':
          image = toGrayscale(image, step.weights);
          break;
        case 'resize':
          image = resize(image, step.width, step.height, step.filter);
          break;
        case 'normalize':
          analysis = image;
          pendingNormalize = step;
          break;
      }
    } catch (cause) {
      if (cause instanceof PlatformError) throw cause;
      throw new PlatformError('PREPROCESS_STEP_FAILED', `Preprocessing step "${step.op}" failed`, { step: step.op }, { cause });
    }
  }
  analysis ??= image;

  if (!windowed) {
    throw new PlatformError('PREPROCESS_STEP_FAILED', 'The manifest declares no voi_window step, so values are not in [0, 1]', { step: 'voi_window' });
  }
  if (image.width !== width || image.height !== height) {
    throw new PlatformError('MODEL_INPUT_SHAPE_MISMATCH', `Preprocessing produced ${image.width}×${image.height}, the model expects ${width}×${height}`, {
      produced: `${image.width}x${image.height}`,
      expected: `${width}x${height}`,
    });
  }
  if (image.channels !== channels && !(image.channels === 1 && channels === 3)) {
    throw new PlatformError('MODEL_INPUT_SHAPE_MISMATCH', `Preprocessing produced ${image.channels} channel(s), the model expects ${channels}`, {
      produced: image.channels,
      expected: channels,
    });
  }

  return {
    tensor: writeTensor(image, channels, pendingNormalize),
    analysis: (analysis.channels === 1 ? analysis : toGrayscale(analysis, LUMA_WEIGHTS)).data,
    width,
    height,
    window,
  };
}

function applyVoiStep(
  image: Raster,
  frame: ImageFrame,
  step: Extract<PreprocessingStep, { op: 'voi_window' }>,
): { image: Raster; window: PreprocessedFrame['window'] } {
  const { attributes } = frame;
  if (attributes.source === 'raster' || image.channels === 3) {
    // Presentation values already (raster), or colour, which has no VOI LUT (PS3.3 C.11.2).
    const high = 2 ** attributes.bitsStored - 1;
    return { image: applyRange(image, 0, high), window: { kind: 'full_range', low: 0, high } };
  }
  const first = attributes.windows[0];
  if (step.mode === 'dicom_or_percentile' && first !== undefined && first.width > 0) {
    const half = first.width / 2;
    return { image: applyWindow(image, first, attributes.voiLutFunction), window: { kind: 'dicom', low: first.center - half, high: first.center + half } };
  }
  const [low, high] = percentiles(image.data, step.percentiles) as [number, number];
  return { image: applyRange(image, low, high), window: { kind: 'percentile', low, high } };
}

function normalize(image: Raster, mean: readonly number[], std: readonly number[]): Raster {
  const out = new Float32Array(image.data.length);
  const c = image.channels;
  for (let i = 0; i < out.length; i++) {
    const k = i % c;
    const m = (mean[k] ?? mean[0]) as number;
    const s = (std[k] ?? std[0]) as number;
    out[i] = ((image.data[i] as number) - m) / s;
  }
  return { ...image, data: out };
}

function replicateGrey(image: Raster): Raster {
  const out = new Float32Array(image.data.length * 3);
  for (let i = 0; i < image.data.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = image.data[i] as number;
  return { ...image, channels: 3, data: out };
}

/**
 * Interleaved H×W×C to planar C×H×W, replicating a grey channel when the model wants three, and
 * applying `normalize` on the way when given: one pass, one array. Each value is computed in double
 * and rounded to Float32 once, exactly as normalize → replicateGrey → planar copy did in three passes
 * (preprocess.test.ts keeps that version as the reference and checks they agree bit for bit).
 */
function writeTensor(
  image: Raster,
  channels: number,
  normalization: { readonly mean: readonly number[]; readonly std: readonly number[] } | undefined,
): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * channels);
  const stride = image.channels;
  const data = image.data;
  for (let c = 0; c < channels; c++) {
    const source = stride === 1 ? 0 : c;
    const offset = c * plane;
    if (normalization === undefined) {
      for (let i = 0, j = source; i < plane; i++, j += stride) out[offset + i] = data[j] as number;
    } else {
      // Channel c of the (replicated) image takes mean[c] and std[c], or the first when only one is given.
      const m = (normalization.mean[c] ?? normalization.mean[0]) as number;
      const s = (normalization.std[c] ?? normalization.std[0]) as number;
      for (let i = 0, j = source; i < plane; i++, j += stride) out[offset + i] = ((data[j] as number) - m) / s;
    }
  }
  return out;
}
