import { describe, expect, it } from 'vitest';
import type { ImageAttributes, ImageFrame } from './image-frame.js';
import { renderForDisplay } from './render-for-display.js';

const base: ImageAttributes = {
  source: 'dicom',
  photometricInterpretation: 'MONOCHROME2',
  originalPhotometric: 'MONOCHROME2',
  bitsAllocated: 16,
  bitsStored: 12,
  pixelRepresentation: 0,
  rescaleSlope: 1,
  rescaleIntercept: 0,
  windows: [],
  voiLutFunction: 'LINEAR',
  numberOfFrames: 1,
  lossyCompressed: false,
};
const frame = (pixels: number[], attributes: Partial<ImageAttributes> = {}, samplesPerPixel: 1 | 3 = 1): ImageFrame => ({
  attributes: { ...base, ...attributes },
  frameIndex: 0,
  rows: 1,
  columns: pixels.length / samplesPerPixel,
  samplesPerPixel,
  pixels: Uint16Array.from(pixels),
});

describe('renderForDisplay', () => {
  it('applies the file’s window with the PS3.3 C.11.2.1.2.1 LINEAR formula', () => {
    // c = 1000, w = 201: x ≤ 899.5 → 0, x > 1099.5 → 255, else ((x − 999.5) / 200 + 0.5) × 255.
    const out = renderForDisplay(frame([0, 899, 900, 1000, 1050, 1100, 4095], { windows: [{ center: 1000, width: 201 }] }));
    expect([...out.data]).toEqual([0, 0, 1, 128, 192, 255, 255]);
    expect(out.window).toEqual({ source: 'dicom', center: 1000, width: 201 });
  });

  it('rescales to modality values first, and a requested window wins over the file’s', () => {
    // Stored 1024 with slope 1, intercept −1024 is 0 HU; window c = 0, w = 2 (LINEAR_EXACT) → 0.5.
    const out = renderForDisplay(
      frame([1023, 1024, 1025], { rescaleIntercept: -1024, windows: [{ center: 500, width: 100 }], voiLutFunction: 'LINEAR_EXACT' }),
      {
        center: 0,
        width: 2,
      },
    );
    expect([...out.data]).toEqual([0, 128, 255]);
    expect(out.window.source).toBe('request');
  });

  it('uses the min–max of the pixels without a window, and inverts MONOCHROME1', () => {
    expect([...renderForDisplay(frame([100, 150, 300])).data]).toEqual([0, Math.round(0.25 * 255), 255]);
    const inverted = renderForDisplay(frame([100, 150, 300], { photometricInterpretation: 'MONOCHROME1' }));
    expect([...inverted.data]).toEqual([255, 255 - Math.round(0.25 * 255), 0]);
    expect(inverted.window).toEqual({ source: 'min_max', center: 200, width: 200 });
  });

  it('shows PNG/JPEG and colour values over their full bit range', () => {
    const png = renderForDisplay(frame([0, 128, 255], { source: 'raster', bitsStored: 8 }));
    expect([...png.data]).toEqual([0, 128, 255]);
    const rgb = renderForDisplay(frame([255, 0, 0, 0, 0, 255], { photometricInterpretation: 'RGB', bitsStored: 8 }, 3));
    expect(rgb).toMatchObject({ channels: 3, width: 2, height: 1, window: { source: 'full_range' } });
    expect([...rgb.data]).toEqual([255, 0, 0, 0, 0, 255]);
  });
});
