/**
 * Image statistics of the *analysis image*: the single-channel image in [0, 1] at the model's input
 * size, i.e. the output of the manifest's preprocessing chain before `normalize`. The gate's quality
 * checks and the out-of-distribution score both use them, and the training script
 * (models/pneumonia-demo/train.py) computes the reference statistics with the same definitions, so the
 * two must stay identical; image-features.test.ts checks them against values the Python script wrote.
 *
 * Definitions (numpy equivalents in brackets):
 * - mean, std: population moments [x.mean(), x.std()]
 * - pNN: percentile with linear interpolation between order statistics [np.percentile(x, NN)]
 * - laplacianVariance: variance of the 4-neighbour Laplacian over interior pixels
 *   [(x[:-2,1:-1] + x[2:,1:-1] + x[1:-1,:-2] + x[1:-1,2:] - 4*x[1:-1,1:-1]).var()]
 * - saturatedFraction: fraction of pixels that round to 0 or 255 in 8 bits [((x <= 0.5/255) | (x >= 254.5/255)).mean()]
 * - dynamicRange: p99 - p01
 */
export const IMAGE_FEATURE_NAMES = [
  'mean',
  'std',
  'p01',
  'p05',
  'p25',
  'p50',
  'p75',
  'p95',
  'p99',
  'laplacianVariance',
  'saturatedFraction',
  'dynamicRange',
] as const;

export type ImageFeatureName = (typeof IMAGE_FEATURE_NAMES)[number];
export type ImageFeatures = Readonly<Record<ImageFeatureName, number>>;

/** Percentile with numpy's default 'linear' method; `sorted` ascending, q in [0, 100]. */
export function percentileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const position = (q / 100) * (n - 1);
  const lower = Math.floor(position);
  const upper = Math.min(lower + 1, n - 1);
  const fraction = position - lower;
  const a = sorted[lower] as number;
  const b = sorted[upper] as number;
  return a + (b - a) * fraction;
}

/** Computes the features of an analysis image of `width` × `height` values in [0, 1]. */
export function computeImageFeatures(pixels: Float32Array | Float64Array, width: number, height: number): ImageFeatures {
  const n = width * height;
  if (pixels.length !== n || n === 0) throw new RangeError(`expected ${n} > 0 pixels, got ${pixels.length}`);

  let sum = 0;
  for (let i = 0; i < n; i++) sum += pixels[i] as number;
  const mean = sum / n;
  let squares = 0;
  let saturated = 0;
  const low = 0.5 / 255;
  const high = 254.5 / 255;
  for (let i = 0; i < n; i++) {
    const v = pixels[i] as number;
    squares += (v - mean) * (v - mean);
    if (v <= low || v >= high) saturated++;
  }
  const std = Math.sqrt(squares / n);

  const sorted = Float64Array.from(pixels).sort();
  const p = (q: number): number => percentileOfSorted(sorted, q);

  return {
    mean,
    std,
    p01: p(1),
    p05: p(5),
    p25: p(25),
    p50: p(50),
    p75: p(75),
    p95: p(95),
    p99: p(99),
    laplacianVariance: laplacianVariance(pixels, width, height),
    saturatedFraction: saturated / n,
    dynamicRange: p(99) - p(1),
  };
}

/** Variance of the 4-neighbour Laplacian over interior pixels (Pech-Pacheco et al. 2000 blur measure). */
export function laplacianVariance(pixels: Float32Array | Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const count = (width - 2) * (height - 2);
  let sum = 0;
  let squares = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      const l =
        (pixels[i - width] as number) + (pixels[i + width] as number) + (pixels[i - 1] as number) + (pixels[i + 1] as number) - 4 * (pixels[i] as number);
      sum += l;
      squares += l * l;
    }
  }
  const mean = sum / count;
  return Math.max(0, squares / count - mean * mean);
}
