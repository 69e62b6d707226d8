import { describe, expect, it } from 'vitest';
import { PlatformError } from '../errors.js';
import { buildFrame } from '../image/frame-builder.js';
import type { ModelManifest } from '../model/model-manifest.js';
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
