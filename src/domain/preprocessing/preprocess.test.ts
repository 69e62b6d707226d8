import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { PlatformError } from '../errors.js';
import { buildFrame } from '../image/frame-builder.js';
import type { ImageFrame } from '../image/image-frame.js';
import type { ModelManifest, PreprocessingStep } from '../model/model-manifest.js';
import { applyRange, applyRescale, applyWindow, invert01, percentiles, resize, toFloat, toGrayscale, type Raster } from './pixel-ops.js';
import { preprocessFrame } from './preprocess.js';

const manifest: Pick<ModelManifest, 'preprocessing' | 'input'> = {
  input: { name: 'image', dtype: 'float32', shape: [-1, 1, 4, 4], layout: 'NCHW', channels: ['grayscale'], valueRange: [-1, 1] },
  preprocessing: [
    { op: 'modality_lut' },
    { op: 'voi_window', mode: 'dicom_or_percentile', percentiles: [0, 1] },
    { op: 'invert_monochrome1' },
    { op: 'to_grayscale', weights: [0.299, 0.587, 0.114] },
    { op: 'resize', width: 4, height: 4, filter: 'area' },
    { op: 'normalize', mean: [0.5], std: [0.5] },
  ],
};

describe('preprocessFrame', () => {
  it('maps an 8-bit raster image to (v/255 - mean)/std, as the model was trained', () => {
    const pixels = Uint8Array.from({ length: 16 }, (_, i) => i * 17);
    const frame = buildFrame(pixels, 4, 4, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });
    const out = preprocessFrame(frame, manifest);
    out.tensor.forEach((v, i) => expect(v).toBeCloseTo(((i * 17) / 255 - 0.5) / 0.5, 6));
    out.analysis.forEach((v, i) => expect(v).toBeCloseTo((i * 17) / 255, 6));
    expect(out.window.kind).toBe('full_range');
  });

  it('applies the modality LUT and the DICOM window, then inverts MONOCHROME1', () => {
    const pixels = Uint16Array.from({ length: 16 }, (_, i) => i * 100);
    const attributes = { rescaleSlope: 2, rescaleIntercept: -1000, windows: [{ center: 500, width: 2000 }], voiLutFunction: 'LINEAR_EXACT' as const };
    const mono2 = preprocessFrame(buildFrame(pixels, 4, 4, attributes), manifest);
    const mono1 = preprocessFrame(
      buildFrame(pixels, 4, 4, { ...attributes, photometricInterpretation: 'MONOCHROME1', originalPhotometric: 'MONOCHROME1' }),
      manifest,
    );
    // pixel 10: 10*100*2 - 1000 = 1000 → (1000 - 500)/2000 + 0.5 = 0.75
    expect(mono2.analysis[10]).toBeCloseTo(0.75, 6);
    expect(mono1.analysis[10]).toBeCloseTo(0.25, 6);
    expect(mono2.window).toEqual({ kind: 'dicom', low: -500, high: 1500 });
  });

  it('falls back to a percentile window when the file has none', () => {
    const pixels = Int16Array.from({ length: 16 }, (_, i) => i - 8);
    const out = preprocessFrame(buildFrame(pixels, 4, 4, { pixelRepresentation: 1 }), manifest);
    expect(out.window).toEqual({ kind: 'percentile', low: -8, high: 7 });
    expect(out.analysis[0]).toBe(0);
    expect(out.analysis[15]).toBe(1);
  });

  it('converts colour to grey with the declared weights and resizes', () => {
    const rgb = Uint8Array.from({ length: 8 * 8 * 3 }, (_, i) => (i % 3 === 0 ? 255 : 0));
    const out = preprocessFrame(buildFrame(rgb, 8, 8, { bitsAllocated: 8, bitsStored: 8 }, 3), manifest);
    expect(out.analysis.length).toBe(16);
    out.analysis.forEach((v) => expect(v).toBeCloseTo(0.299, 5));
  });

  it('refuses a chain that does not reach the model input size', () => {
    const wrong = { ...manifest, preprocessing: manifest.preprocessing.filter((s) => s.op !== 'resize') };
    const frame = buildFrame(new Uint16Array(64), 8, 8);
    expect(() => preprocessFrame(frame, wrong)).toThrowError(PlatformError);
    try {
      preprocessFrame(frame, wrong);
    } catch (e) {
      expect((e as PlatformError).code).toBe('MODEL_INPUT_SHAPE_MISMATCH');
    }
  });

  it('replicates grey into three channels for a colour model', () => {
    const colour: typeof manifest = {
      input: { ...manifest.input, shape: [-1, 3, 4, 4], channels: ['red', 'green', 'blue'] },
      preprocessing: [
        { op: 'voi_window', mode: 'percentile', percentiles: [0, 1] },
        { op: 'resize', width: 4, height: 4, filter: 'area' },
        { op: 'normalize', mean: [0.1, 0.2, 0.3], std: [1, 1, 1] },
      ],
    };
    const out = preprocessFrame(
      buildFrame(
        Uint16Array.from({ length: 16 }, (_, i) => i),
        4,
        4,
      ),
      colour,
    );
    expect(out.tensor.length).toBe(48);
    expect(out.tensor[15]).toBeCloseTo(1 - 0.1, 6);
    expect(out.tensor[16 + 15]).toBeCloseTo(1 - 0.2, 6);
    expect(out.tensor[32 + 15]).toBeCloseTo(1 - 0.3, 6);
  });
});

// ---------------------------------------------------------------------------------------------------
// Reference: preprocessFrame as it was before the tail (normalize → replicate grey → planar) became one
// pass. Kept verbatim so that the fused version can be checked against it bit for bit.

type ReferenceFrame = ReturnType<typeof preprocessFrame>;

const LUMA_WEIGHTS = [0.299, 0.587, 0.114] as const;

function referencePreprocessFrame(frame: ImageFrame, manifest: Pick<ModelManifest, 'preprocessing' | 'input'>): ReferenceFrame {
  const [, channels, height, width] = manifest.input.shape;
  let image: Raster = toFloat(frame.pixels, frame.columns, frame.rows, frame.samplesPerPixel);
  let windowed = false;
  let window: ReferenceFrame['window'] = { kind: 'full_range', low: 0, high: 2 ** frame.attributes.bitsStored - 1 };
  let analysis: Raster | undefined;

  for (const step of manifest.preprocessing) {
    try {
      switch (step.op) {
        case 'modality_lut':
          // The modality LUT applies to grey images only (PS3.3 C.7.6.3.1.1: colour has no rescale).
          if (image.channels === 1) image = applyRescale(image, frame.attributes.rescaleSlope, frame.attributes.rescaleIntercept);
          break;
        case 'voi_window': {
          const result = referenceApplyVoiStep(image, frame, step);
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
          // A grey image for a colour model is replicated first, so each channel gets its own mean/std.
          image = referenceNormalize(image.channels === 1 && channels === 3 ? referenceReplicateGrey(image) : image, step.mean, step.std);
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
    tensor: referenceToPlanar(image, channels),
    analysis: (analysis.channels === 1 ? analysis : toGrayscale(analysis, LUMA_WEIGHTS)).data,
    width,
    height,
    window,
  };
}

function referenceApplyVoiStep(
  image: Raster,
  frame: ImageFrame,
  step: Extract<PreprocessingStep, { op: 'voi_window' }>,
): { image: Raster; window: ReferenceFrame['window'] } {
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

function referenceNormalize(image: Raster, mean: readonly number[], std: readonly number[]): Raster {
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

function referenceReplicateGrey(image: Raster): Raster {
  const out = new Float32Array(image.data.length * 3);
  for (let i = 0; i < image.data.length; i++) out[3 * i] = out[3 * i + 1] = out[3 * i + 2] = image.data[i] as number;
  return { ...image, channels: 3, data: out };
}

/** Interleaved H×W×C to planar C×H×W, replicating a grey channel when the model wants three. */
function referenceToPlanar(image: Raster, channels: number): Float32Array {
  const plane = image.width * image.height;
  const out = new Float32Array(plane * channels);
  for (let c = 0; c < channels; c++) {
    const source = image.channels === 1 ? 0 : c;
    for (let i = 0; i < plane; i++) out[c * plane + i] = image.data[i * image.channels + source] as number;
  }
  return out;
}

describe('preprocessFrame equals the three-pass reference', () => {
  const steps = (width: number, height: number, filter: 'area' | 'bilinear' | 'nearest', mean: number[], std: number[]): PreprocessingStep[] => [
    { op: 'modality_lut' },
    { op: 'voi_window', mode: 'dicom_or_percentile', percentiles: [0.01, 0.99] },
    { op: 'invert_monochrome1' },
    { op: 'to_grayscale', weights: [0.299, 0.587, 0.114] },
    { op: 'resize', width, height, filter },
    { op: 'normalize', mean, std },
  ];
  const frameArbitrary = fc
    .record({
      columns: fc.integer({ min: 1, max: 24 }),
      rows: fc.integer({ min: 1, max: 24 }),
      samples: fc.constantFrom(1 as const, 3 as const),
      source: fc.constantFrom('dicom' as const, 'raster' as const),
      monochrome1: fc.boolean(),
      window: fc.option(fc.record({ center: fc.integer({ min: -500, max: 3000 }), width: fc.integer({ min: 1, max: 4000 }) }), { nil: undefined }),
      voiLutFunction: fc.constantFrom('LINEAR' as const, 'LINEAR_EXACT' as const, 'SIGMOID' as const),
      slope: fc.constantFrom(1, 2, 0.5),
      intercept: fc.constantFrom(0, -1024),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map((p): ImageFrame => {
      let state = p.seed;
      const pixels = Uint16Array.from({ length: p.columns * p.rows * p.samples }, () => {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        return state % 4096;
      });
      return buildFrame(
        pixels,
        p.columns,
        p.rows,
        {
          source: p.source,
          photometricInterpretation: p.samples === 3 ? 'RGB' : p.monochrome1 ? 'MONOCHROME1' : 'MONOCHROME2',
          rescaleSlope: p.slope,
          rescaleIntercept: p.intercept,
          windows: p.window === undefined ? [] : [p.window],
          voiLutFunction: p.voiLutFunction,
        },
        p.samples,
      );
    });
  const manifestArbitrary = fc
    .record({
      channels: fc.constantFrom(1 as const, 3 as const),
      width: fc.integer({ min: 1, max: 30 }),
      height: fc.integer({ min: 1, max: 30 }),
      filter: fc.constantFrom('area' as const, 'bilinear' as const, 'nearest' as const),
      mean: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 3 }),
      std: fc.array(fc.double({ min: 0.01, max: 3, noNaN: true }), { minLength: 1, maxLength: 3 }),
      keepColour: fc.boolean(),
      withNormalize: fc.boolean(),
    })
    .map((p): Pick<ModelManifest, 'preprocessing' | 'input'> => ({
      input: {
        ...manifest.input,
        shape: [-1, p.channels, p.height, p.width],
        channels: p.channels === 3 ? ['red', 'green', 'blue'] : ['grayscale'],
      },
      preprocessing: steps(p.width, p.height, p.filter, p.mean, p.std).filter(
        (s) => (p.keepColour ? s.op !== 'to_grayscale' : true) && (p.withNormalize ? true : s.op !== 'normalize'),
      ),
    }));
  /** The result with its arrays as bit patterns (toEqual alone would let -0 equal 0), or the error code. */
  const outcome = (run: () => ReferenceFrame): unknown => {
    try {
      const out = run();
      const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
      return { ...out, tensor: bits(out.tensor), analysis: bits(out.analysis) };
    } catch (error) {
      return error instanceof PlatformError ? error.code : String(error);
    }
  };

  test.prop([frameArbitrary, manifestArbitrary], { numRuns: 300 })('same tensor, analysis image, window and errors', (frame, m) => {
    expect(outcome(() => preprocessFrame(frame, m))).toEqual(outcome(() => referencePreprocessFrame(frame, m)));
  });

  it('equals it for a 28 × 28 grey PNG into a 224 × 224 three-channel model (the ResNet-18 bench)', () => {
    const pixels = Uint8Array.from({ length: 28 * 28 }, (_, i) => (i * 97) % 256);
    const frame = buildFrame(pixels, 28, 28, { source: 'raster', bitsAllocated: 8, bitsStored: 8 });
    const resnet: Pick<ModelManifest, 'preprocessing' | 'input'> = {
      input: { ...manifest.input, shape: [-1, 3, 224, 224], channels: ['red', 'green', 'blue'] },
      preprocessing: steps(224, 224, 'area', [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    };
    expect(outcome(() => preprocessFrame(frame, resnet))).toEqual(outcome(() => referencePreprocessFrame(frame, resnet)));
  });
});
