import { pairwiseSum } from './pairwise-sum.js';

/**
 * Image statistics of the *analysis image*: the single-channel image in [0, 1] at the model's input
 * size, i.e. the output of the manifest's preprocessing chain before `normalize`. The gate's quality
 * checks and the out-of-distribution score both use them, and the training script
 * (models/pneumonia-demo/train.py) computes the reference statistics with the same definitions, so the
 * two must stay identical: test/integration/pneumonia-demo-model.test.ts checks them against values the
 * Python script wrote, and image-features.test.ts checks the selection-based percentiles against a sort.
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
  return lerp(sorted[lower] as number, sorted[upper] as number, fraction);
}

/**
 * numpy's interpolation between two order statistics (numpy/lib/function_base.py, _lerp): from the
 * nearer end, so that the result is monotonic in t and exact at t = 1.
 */
function lerp(a: number, b: number, t: number): number {
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** The percentiles the features use, in the order `computeImageFeatures` reads them back. */
const FEATURE_PERCENTILES = [1, 5, 25, 50, 75, 95, 99] as const;

/** Computes the features of an analysis image of `width` × `height` values in [0, 1]. */
export function computeImageFeatures(pixels: Float32Array | Float64Array, width: number, height: number): ImageFeatures {
  const n = width * height;
  if (pixels.length !== n || n === 0) throw new RangeError(`expected ${n} > 0 pixels, got ${pixels.length}`);

  // numpy's arithmetic, step for step (x = pixels as float64): mean = pairwise sum / n; std = sqrt(pairwise
  // sum of (x - mean)² / n). The same sums in another order differ in the last bits, and the reference
  // statistics (a precision matrix with entries near 1e5) magnify those bits past what a check of
  // `vigil model init` against the demo manifest allows; see pairwise-sum.ts.
  const x = Float64Array.from(pixels);
  let saturated = 0;
  const low = 0.5 / 255;
  const high = 254.5 / 255;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    if (v <= low || v >= high) saturated++;
  }
  const mean = pairwiseSum(x) / n;
  const squares = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = (x[i] as number) - mean;
    squares[i] = d * d;
  }
  const std = Math.sqrt(pairwiseSum(squares) / n);

  const [p01, p05, p25, p50, p75, p95, p99] = linearPercentiles(pixels, FEATURE_PERCENTILES) as [number, number, number, number, number, number, number];

  return {
    mean,
    std,
    p01,
    p05,
    p25,
    p50,
    p75,
    p95,
    p99,
    laplacianVariance: laplacianVariance(pixels, width, height),
    saturatedFraction: saturated / n,
    dynamicRange: p99 - p01,
  };
}

/**
 * Percentiles (q in [0, 100]) with numpy's default 'linear' method, equal to `percentileOfSorted` on
 * the sorted values (bit for bit: the same two order statistics go through the same arithmetic), but
 * without sorting: the order statistics are found by selection, O(n) instead of O(n log n). Values
 * must not be NaN.
 */
export function linearPercentiles(values: ArrayLike<number>, qs: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) return qs.map(() => Number.NaN);
  const positions = qs.map((q) => (q / 100) * (n - 1));
  // Every order statistic the interpolation reads: the one at or below each position and the next.
  const ranks = [...new Set(positions.flatMap((position) => [Math.floor(position), Math.min(Math.floor(position) + 1, n - 1)]))].sort((a, b) => a - b);
  const valueAt = values instanceof Float32Array && n >= RADIX_MIN_VALUES ? orderStatisticsOfFloat32(values, ranks) : orderStatisticsBySelection(values, ranks);
  return positions.map((position) => {
    const lower = Math.floor(position);
    const a = valueAt.get(lower) as number;
    const b = valueAt.get(Math.min(lower + 1, n - 1)) as number;
    return lerp(a, b, position - lower);
  });
}

/** Below this many values, the bucket pass costs more than it saves. */
const RADIX_MIN_VALUES = 4096;

/** Order statistics by Floyd–Rivest selection on one scratch copy. */
function orderStatisticsBySelection(values: ArrayLike<number>, ranks: readonly number[]): Map<number, number> {
  const scratch = Float64Array.from(values);
  selectAll(scratch, ranks, 0, ranks.length - 1, 0, scratch.length - 1);
  return new Map(ranks.map((rank) => [rank, scratch[rank] as number]));
}

/**
 * Order statistics of Float32 values: one pass buckets the values by the top 16 bits of a key that
 * orders as the values do (the IEEE 754 bits with the sign bit flipped for positives and all bits
 * flipped for negatives), a second pass copies out only the buckets that hold a wanted rank, and
 * selection finishes inside each. For a 224 × 224 image that is two cheap passes plus selection on a
 * few per cent of the values.
 */
function orderStatisticsOfFloat32(values: Float32Array, ranks: readonly number[]): Map<number, number> {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  const counts = new Uint32Array(65_536);
  for (let i = 0; i < n; i++) {
    const b = bits[i] as number;
    const bucket = (b ^ ((b >> 31) | 0x80000000)) >>> 16;
    counts[bucket] = (counts[bucket] as number) + 1;
  }
  // The bucket of each rank, and where that bucket starts in rank order.
  const bucketOf: number[] = [];
  const bucketStart: number[] = [];
  let below = 0;
  let bucket = 0;
  for (const rank of ranks) {
    while (below + (counts[bucket] as number) <= rank) below += counts[bucket++] as number;
    bucketOf.push(bucket);
    bucketStart.push(below);
  }
  // Wanted buckets, each given a segment of the scratch array in bucket (so value) order.
  const segmentOf = new Int32Array(65_536).fill(-1);
  const wanted = [...new Set(bucketOf)];
  const segmentStart: number[] = [];
  let size = 0;
  wanted.forEach((b, i) => {
    segmentOf[b] = i;
    segmentStart.push(size);
    size += counts[b] as number;
  });
  const scratch = new Float64Array(size);
  const fill = Int32Array.from(segmentStart);
  for (let i = 0; i < n; i++) {
    const b = bits[i] as number;
    const segment = segmentOf[(b ^ ((b >> 31) | 0x80000000)) >>> 16] as number;
    if (segment >= 0) {
      const at = fill[segment] as number;
      scratch[at] = values[i] as number;
      fill[segment] = at + 1;
    }
  }
  // In the scratch array, rank r of the whole set sits at (its segment's start) + (r - its bucket's start).
  const positions = ranks.map((rank, j) => (segmentStart[segmentOf[bucketOf[j] as number] as number] as number) + rank - (bucketStart[j] as number));
  wanted.forEach((b, i) => {
    const from = segmentStart[i] as number;
    const to = from + (counts[b] as number) - 1;
    const inside = positions.filter((p) => p >= from && p <= to);
    selectAll(scratch, inside, 0, inside.length - 1, from, to);
  });
  return new Map(ranks.map((rank, j) => [rank, scratch[positions[j] as number] as number]));
}

/**
 * Places the order statistics ks[from..to] (ascending) of values[left..right] at their indices: the
 * middle one first, then each half within its side, so each selection runs on a shrinking range.
 */
function selectAll(values: Float64Array, ks: readonly number[], from: number, to: number, left: number, right: number): void {
  if (from > to) return;
  const middle = (from + to) >>> 1;
  const k = ks[middle] as number;
  select(values, k, left, right);
  selectAll(values, ks, from, middle - 1, left, k - 1);
  selectAll(values, ks, middle + 1, to, k + 1, right);
}

/**
 * Floyd–Rivest selection (CACM 18(3), 1975, Algorithm 489), in the form of mourner/quickselect:
 * rearranges values[left..right] so that values[k] is the value a sort would put there, with no larger
 * value before it and no smaller one after it. Ties are fine; NaN is not.
 */
function select(values: Float64Array, k: number, left: number, right: number): void {
  while (right > left) {
    if (right - left > 600) {
      // Recurse on a sample range expected to hold the k-th value, so the pivot lands close to k.
      const n = right - left + 1;
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m - n / 2 < 0 ? -1 : 1);
      const newLeft = Math.max(left, Math.floor(k - (m * s) / n + sd));
      const newRight = Math.min(right, Math.floor(k + ((n - m) * s) / n + sd));
      select(values, k, newLeft, newRight);
    }
    const t = values[k] as number;
    let i = left;
    let j = right;
    swap(values, left, k);
    if ((values[right] as number) > t) swap(values, left, right);
    while (i < j) {
      swap(values, i, j);
      i++;
      j--;
      while ((values[i] as number) < t) i++;
      while ((values[j] as number) > t) j--;
    }
    if (values[left] === t) swap(values, left, j);
    else {
      j++;
      swap(values, j, right);
    }
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

function swap(values: Float64Array, i: number, j: number): void {
  const t = values[i] as number;
  values[i] = values[j] as number;
  values[j] = t;
}

/**
 * Variance of the 4-neighbour Laplacian over interior pixels (Pech-Pacheco et al. 2000 blur measure),
 * in two passes with numpy's pairwise sums, as `lap.var()` computes it.
 */
export function laplacianVariance(pixels: Float32Array | Float64Array, width: number, height: number): number {
  if (width < 3 || height < 3) return 0;
  const count = (width - 2) * (height - 2);
  const lap = new Float64Array(count);
  let k = 0;
  for (let y = 1; y < height - 1; y++) {
    const row = y * width;
    for (let x = 1; x < width - 1; x++) {
      const i = row + x;
      lap[k++] =
        (pixels[i - width] as number) + (pixels[i + width] as number) + (pixels[i - 1] as number) + (pixels[i + 1] as number) - 4 * (pixels[i] as number);
    }
  }
  const mean = pairwiseSum(lap) / count;
  for (let i = 0; i < count; i++) {
    const d = (lap[i] as number) - mean;
    lap[i] = d * d;
  }
  return pairwiseSum(lap) / count;
}
