/**
 * Pure array functions the preprocessing chain is made of (in the manner of MONAI's
 * transforms/intensity/array.py). Images are row-major, channels interleaved, Float32.
 */
import type { StoredPixels, VoiWindow } from '../image/image-frame.js';

export interface Raster {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

export function toFloat(pixels: StoredPixels, width: number, height: number, channels: number): Raster {
  if (pixels.length !== width * height * channels) {
    throw new RangeError(`pixel count ${pixels.length} != ${width}×${height}×${channels}`);
  }
  return { width, height, channels, data: Float32Array.from(pixels) };
}

/** PS3.3 C.11.1.1.2 modality LUT as a linear rescale: output = stored × slope + intercept. */
export function applyRescale(image: Raster, slope: number, intercept: number): Raster {
  if (slope === 1 && intercept === 0) return image;
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = (image.data[i] as number) * slope + intercept;
  return { ...image, data: out };
}

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** PS3.3 C.11.2.1.2 VOI LUT functions, mapped to [0, 1] instead of [ymin, ymax]. */
export function applyWindow(image: Raster, window: VoiWindow, fn: VoiFunction): Raster {
  const { center: c, width: w } = window;
  const out = new Float32Array(image.data.length);
  switch (fn) {
    case 'LINEAR': {
      // C.11.2.1.2.1: width must be >= 1; the 0.5 and (w - 1) terms centre the ramp on discrete values.
      const width = Math.max(w, 1);
      const lower = c - 0.5 - (width - 1) / 2;
      const upper = c - 0.5 + (width - 1) / 2;
      for (let i = 0; i < out.length; i++) {
        const x = image.data[i] as number;
        out[i] = x <= lower ? 0 : x > upper ? 1 : width === 1 ? 1 : (x - (c - 0.5)) / (width - 1) + 0.5;
      }
      break;
    }
    case 'LINEAR_EXACT': {
      // C.11.2.1.3.2: width must be > 0.
      const width = Math.max(w, Number.EPSILON);
      for (let i = 0; i < out.length; i++) out[i] = clamp01(((image.data[i] as number) - c) / width + 0.5);
      break;
    }
    case 'SIGMOID': {
      // C.11.2.1.3.1.
      const width = Math.max(w, Number.EPSILON);
      for (let i = 0; i < out.length; i++) out[i] = 1 / (1 + Math.exp((-4 * ((image.data[i] as number) - c)) / width));
      break;
    }
  }
  return { ...image, data: out };
}

/** Linear map of [low, high] to [0, 1], clipped; a degenerate range maps everything to 0. */
export function applyRange(image: Raster, low: number, high: number): Raster {
  const out = new Float32Array(image.data.length);
  const span = high - low;
  if (span > 0) for (let i = 0; i < out.length; i++) out[i] = clamp01(((image.data[i] as number) - low) / span);
  return { ...image, data: out };
}

export function invert01(image: Raster): Raster {
  const out = new Float32Array(image.data.length);
  for (let i = 0; i < out.length; i++) out[i] = 1 - (image.data[i] as number);
  return { ...image, data: out };
}

export function toGrayscale(image: Raster, weights: readonly [number, number, number]): Raster {
  if (image.channels === 1) return image;
  if (image.channels !== 3) throw new RangeError(`cannot convert ${image.channels} channels to grey`);
  const n = image.width * image.height;
  const out = new Float32Array(n);
  const [wr, wg, wb] = weights;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    out[i] = wr * (image.data[j] as number) + wg * (image.data[j + 1] as number) + wb * (image.data[j + 2] as number);
  }
  return { width: image.width, height: image.height, channels: 1, data: out };
}

export type ResizeFilter = 'area' | 'bilinear' | 'nearest';

/**
 * Resizes in float on the domain's own arrays. Written here rather than delegated to sharp because
 * the chain runs on float modality values in the pure domain, where sharp's 8/16-bit integer
 * buffers behind an adapter would quantise them. `area` is the exact box filter (each output pixel
 * is the coverage-weighted mean of the input pixels under it, as OpenCV's INTER_AREA when
 * shrinking); `bilinear` uses half-pixel centres (align_corners = false).
 */
export function resize(image: Raster, width: number, height: number, filter: ResizeFilter): Raster {
  if (image.width === width && image.height === height) return image;
  switch (filter) {
    case 'area':
      return resizeArea(image, width, height);
    case 'bilinear':
      return resizeBilinear(image, width, height);
    case 'nearest':
      return resizeNearest(image, width, height);
  }
}

/** For each output index along one axis: the input indices it covers and their weights (summing to 1). */
function areaWeights(inSize: number, outSize: number): { start: number; weights: Float64Array }[] {
  const scale = inSize / outSize;
  const result: { start: number; weights: Float64Array }[] = [];
  for (let o = 0; o < outSize; o++) {
    const from = o * scale;
    const to = (o + 1) * scale;
    const start = Math.floor(from);
    const end = Math.min(Math.ceil(to), inSize);
    const weights = new Float64Array(end - start);
    for (let i = start; i < end; i++) weights[i - start] = (Math.min(i + 1, to) - Math.max(i, from)) / scale;
    result.push({ start, weights });
  }
  return result;
}

function resizeArea(image: Raster, width: number, height: number): Raster {
  const { channels } = image;
  const xs = flatAreaWeights(image.width, width);
  const ys = areaWeights(image.height, height);
  const src = image.data;
  const rowLength = image.width * channels;
  // Separable: rows first into a (height × image.width) buffer, then columns.
  const tmp = new Float64Array(height * rowLength);
  for (let oy = 0; oy < height; oy++) {
    const { start, weights } = ys[oy] as { start: number; weights: Float64Array };
    const dstRow = oy * rowLength;
    for (let k = 0; k < weights.length; k++) {
      const w = weights[k] as number;
      const srcRow = (start + k) * rowLength;
      for (let i = 0; i < rowLength; i++) tmp[dstRow + i] = (tmp[dstRow + i] as number) + w * (src[srcRow + i] as number);
    }
  }
  // Columns: each output value is the same sum, in the same order, as a loop over areaWeights would give.
  const { starts, offsets, weights } = xs;
  const out = new Float32Array(width * height * channels);
  for (let oy = 0; oy < height; oy++) {
    const tmpRow = oy * rowLength;
    const outRow = oy * width * channels;
    for (let ox = 0; ox < width; ox++) {
      const first = offsets[ox] as number;
      const last = offsets[ox + 1] as number;
      const base = tmpRow + (starts[ox] as number) * channels;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = first, j = base + c; k < last; k++, j += channels) sum += (weights[k] as number) * (tmp[j] as number);
        out[outRow + ox * channels + c] = sum;
      }
    }
  }
  return { width, height, channels, data: out };
}

/** areaWeights flattened for the inner loop: output o covers inputs starts[o]… with weights[offsets[o] .. offsets[o + 1]). */
function flatAreaWeights(inSize: number, outSize: number): { starts: Int32Array; offsets: Int32Array; weights: Float64Array } {
  const perOutput = areaWeights(inSize, outSize);
  const starts = new Int32Array(outSize);
  const offsets = new Int32Array(outSize + 1);
  perOutput.forEach(({ start, weights }, o) => {
    starts[o] = start;
    offsets[o + 1] = (offsets[o] as number) + weights.length;
  });
  const weights = new Float64Array(offsets[outSize] as number);
  perOutput.forEach((w, o) => weights.set(w.weights, offsets[o]));
  return { starts, offsets, weights };
}

function resizeBilinear(image: Raster, width: number, height: number): Raster {
  const { channels } = image;
  const out = new Float32Array(width * height * channels);
  const sx = image.width / width;
  const sy = image.height / height;
  for (let oy = 0; oy < height; oy++) {
    const fy = Math.min(Math.max((oy + 0.5) * sy - 0.5, 0), image.height - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, image.height - 1);
    const wy = fy - y0;
    for (let ox = 0; ox < width; ox++) {
      const fx = Math.min(Math.max((ox + 0.5) * sx - 0.5, 0), image.width - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, image.width - 1);
      const wx = fx - x0;
      for (let c = 0; c < channels; c++) {
        const at = (x: number, y: number): number => image.data[(y * image.width + x) * channels + c] as number;
        const top = at(x0, y0) * (1 - wx) + at(x1, y0) * wx;
        const bottom = at(x0, y1) * (1 - wx) + at(x1, y1) * wx;
        out[(oy * width + ox) * channels + c] = top * (1 - wy) + bottom * wy;
      }
    }
  }
  return { width, height, channels, data: out };
}

function resizeNearest(image: Raster, width: number, height: number): Raster {
  const { channels } = image;
  const out = new Float32Array(width * height * channels);
  for (let oy = 0; oy < height; oy++) {
    const y = Math.min(Math.floor((oy + 0.5) * (image.height / height)), image.height - 1);
    for (let ox = 0; ox < width; ox++) {
      const x = Math.min(Math.floor((ox + 0.5) * (image.width / width)), image.width - 1);
      for (let c = 0; c < channels; c++) out[(oy * width + ox) * channels + c] = image.data[(y * image.width + x) * channels + c] as number;
    }
  }
  return { width, height, channels, data: out };
}

/**
 * Percentiles (q in [0, 1]) of the values, numpy's default linear interpolation. Integer stored
 * values are counted in a histogram (exact, and O(n) for a 3.6-megapixel radiograph instead of a
 * sort); anything else is sorted.
 */
export function percentiles(values: Float32Array, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => Number.NaN);
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (v < min) min = v;
    if (v > max) max = v;
    if (integral && !Number.isInteger(v)) integral = false;
  }
  const orderStatistic = buildOrderStatistic(values, min, max, integral);
  return qs.map((q) => {
    const position = q * (n - 1);
    const lower = Math.floor(position);
    const a = orderStatistic(lower);
    const b = orderStatistic(Math.min(lower + 1, n - 1));
    return a + (b - a) * (position - lower);
  });
}

const MAX_HISTOGRAM_BINS = 1 << 20;

function buildOrderStatistic(values: Float32Array, min: number, max: number, integral: boolean): (k: number) => number {
  if (integral && max - min + 1 <= MAX_HISTOGRAM_BINS) {
    const counts = new Uint32Array(max - min + 1);
    for (let i = 0; i < values.length; i++) {
      const bin = (values[i] as number) - min;
      counts[bin] = (counts[bin] as number) + 1;
    }
    const cumulative = new Float64Array(counts.length);
    let running = 0;
    for (let i = 0; i < counts.length; i++) {
      running += counts[i] as number;
      cumulative[i] = running;
    }
    return (k) => {
      // smallest bin whose cumulative count exceeds k
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cumulative[mid] as number) > k) hi = mid;
        else lo = mid + 1;
      }
      return lo + min;
    };
  }
  const sorted = Float32Array.from(values).sort();
  return (k) => sorted[k] as number;
}

export function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
