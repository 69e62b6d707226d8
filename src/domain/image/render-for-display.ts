/**
 * Turns a decoded frame into 8-bit display values for a human reader (the review screen), the way a
 * DICOM viewer presents it (PS3.3 C.11: Modality LUT, then VOI LUT, then Presentation LUT). Pure; the
 * encoding to PNG and the resizing happen in an adapter.
 */
import { applyRange, applyRescale, applyWindow, invert01, toFloat, type Raster } from '../preprocessing/pixel-ops.js';
import type { ImageFrame, VoiWindow } from './image-frame.js';

export interface DisplayImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** Row-major 8-bit values, channels interleaved. */
  readonly data: Uint8Array;
  /** The window applied (in modality values), and where it came from. */
  readonly window: { readonly source: 'request' | 'dicom' | 'min_max' | 'full_range'; readonly center: number; readonly width: number };
}

/**
 * Grey DICOM: rescale to modality values, then the requested window, else the file's first VOI
 * window (with its VOI LUT Function), else the frame's min–max; MONOCHROME1 is inverted so that
 * high values are dark, as the photometric interpretation says. PNG/JPEG and colour frames hold
 * presentation values already: their full bit range is shown (a requested window still applies to grey).
 *
 * @example renderForDisplay(frame, { center: 40, width: 400 }) // a CT soft-tissue window
 */
export function renderForDisplay(frame: ImageFrame, requested?: VoiWindow): DisplayImage {
  const { attributes } = frame;
  let image: Raster = toFloat(frame.pixels, frame.columns, frame.rows, frame.samplesPerPixel);
  let window: DisplayImage['window'];
  const grey = frame.samplesPerPixel === 1;
  if (grey && attributes.source === 'dicom') image = applyRescale(image, attributes.rescaleSlope, attributes.rescaleIntercept);
  const fileWindow = attributes.source === 'dicom' && grey ? attributes.windows[0] : undefined;
  if (grey && requested !== undefined) {
    image = applyWindow(image, requested, attributes.source === 'dicom' ? attributes.voiLutFunction : 'LINEAR');
    window = { source: 'request', ...requested };
  } else if (fileWindow !== undefined) {
    image = applyWindow(image, fileWindow, attributes.voiLutFunction);
    window = { source: 'dicom', ...fileWindow };
  } else if (grey && attributes.source === 'dicom') {
    const [low, high] = minMax(image.data);
    image = applyRange(image, low, high);
    window = { source: 'min_max', center: (low + high) / 2, width: high - low };
  } else {
    const high = 2 ** attributes.bitsStored - 1;
    image = applyRange(image, 0, high);
    window = { source: 'full_range', center: high / 2, width: high };
  }
  if (attributes.photometricInterpretation === 'MONOCHROME1') image = invert01(image);
  const data = new Uint8Array(image.data.length);
  for (let i = 0; i < data.length; i++) data[i] = Math.round((image.data[i] as number) * 255);
  return { width: frame.columns, height: frame.rows, channels: grey ? 1 : 3, data, window };
}

function minMax(values: Float32Array): [number, number] {
  let low = Infinity;
  let high = -Infinity;
  for (const v of values) {
    if (v < low) low = v;
    if (v > high) high = v;
  }
  return values.length === 0 ? [0, 0] : [low, high];
}
