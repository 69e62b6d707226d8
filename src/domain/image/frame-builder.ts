import type { ImageAttributes, ImageFrame, StoredPixels } from './image-frame.js';

/** Builds synthetic frames for tests and benchmarks (no patient data ever). */
export function buildFrame(
  pixels: StoredPixels,
  columns: number,
  rows: number,
  attributes: Partial<ImageAttributes> = {},
  samplesPerPixel: 1 | 3 = 1,
): ImageFrame {
  const base: ImageAttributes = {
    source: 'dicom',
    modality: 'CR',
    bodyPartExamined: 'CHEST',
    photometricInterpretation: samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
    originalPhotometric: samplesPerPixel === 3 ? 'RGB' : 'MONOCHROME2',
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
  return { attributes: { ...base, ...attributes }, frameIndex: 0, rows, columns, samplesPerPixel, pixels };
}
