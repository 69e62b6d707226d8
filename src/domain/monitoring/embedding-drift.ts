import { SeededRandom, shuffledIndices } from '../evaluation/random.js';

/**
 * Multivariate drift on the embedding summary (issue 12 §1): the images' projections onto the version's
 * principal components (embedding-summary.ts, k = 8) compared with the reference images' own, by the
 * maximum mean discrepancy (MMD) with a Gaussian kernel (Gretton et al., "A Kernel Two-Sample Test",
 * JMLR 13, 2012):
 *
 * - `mmd2Unbiased`: the unbiased estimate MMD²ᵤ (Gretton et al. eq. 3), ≈ 0 in expectation when both
 *   samples come from one distribution (it can be negative);
 * - `mmdPermutationTest`: a window of cases against the reference, its p-value from seeded permutations of
 *   the pooled sample;
 * - `designOnlineMmd` / `updateOnlineMmd`: the online detector of Cobb, Van Looveren & Klaise ("Sequential
 *   Multivariate Change Detection with Calibrated and Memoryless False Detection Rates", AISTATS 2022), as
 *   alibi-detect's `MMDDriftOnline` runs it: the reference is split once into the part the sliding window
 *   of W cases is compared with and an initial window; thresholds, one per time step since the (re)start,
 *   are set by bootstrap on the reference so that the detector alarms at each step with probability
 *   1/ERT given it has not alarmed before — a memoryless run length whose expectation under the
 *   reference is the target ERT. An update costs O(N_ref·k + W·k).
 *
 * The bandwidth is the median heuristic on the reference: σ² = ½ · median of the squared distances between
 * distinct reference rows (alibi-detect's `sigma_median`: the lower median), k(x, y) = exp(−‖x − y‖² / 2σ²).
 * Everything is deterministic given the seed (SeededRandom); a plan and a state are plain numbers, so the
 * server stores them as JSON (monitor-snapshot.ts).
 */

/** Rows of k values each (the embedding summaries). */
export type Rows = readonly ArrayLike<number>[];

function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>, k: number): number {
  let s = 0;
  for (let j = 0; j < k; j++) {
    const d = a[j]! - b[j]!;
    s += d * d;
  }
  return s;
}

function widthOf(rows: Rows): number {
  const k = rows[0]?.length ?? 0;
  if (k < 1) throw new RangeError('MMD needs rows of at least one value');
  for (const r of rows) if (r.length !== k) throw new RangeError(`every row needs ${k} values`);
  return k;
}

/**
 * The median-heuristic bandwidth σ of reference rows (at least 2): σ² = ½ · the lower median of the squared
 * distances between distinct rows, as alibi-detect's `sigma_median` on the reference with itself. A
 * reference whose rows are all equal has no scale: RangeError.
 *
 * @example medianHeuristicSigma([[0], [1], [3]]) // √(½ · 4) — squared distances 1, 4, 9
 */
export function medianHeuristicSigma(rows: Rows): number {
  const n = rows.length;
  if (n < 2) throw new RangeError('the median heuristic needs at least two rows');
  const k = widthOf(rows);
  const d = new Float64Array((n * (n - 1)) / 2);
  let p = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) d[p++] = squaredDistance(rows[i]!, rows[j]!, k);
  d.sort();
  const median = d[Math.floor((d.length - 1) / 2)]!;
  if (!(median > 0)) throw new RangeError('the reference rows have no spread (median distance 0)');
  return Math.sqrt(0.5 * median);
}

/** γ = 1/(2σ²), k(x, y) = exp(−γ‖x − y‖²). */
function gammaOf(sigma: number): number {
  if (!(sigma > 0) || !Number.isFinite(sigma)) throw new RangeError('the kernel bandwidth must be positive and finite');
  return 1 / (2 * sigma * sigma);
}

/**
 * The unbiased MMD² between samples x (m ≥ 2 rows) and y (n ≥ 2 rows) under the Gaussian kernel of
 * bandwidth σ (default: the median heuristic on x): the mean kernel within x and within y over distinct
 * pairs, minus twice the mean across (Gretton et al. 2012, eq. 3).
 */
export function mmd2Unbiased(x: Rows, y: Rows, sigma: number = medianHeuristicSigma(x)): number {
  const m = x.length;
  const n = y.length;
  if (m < 2 || n < 2) throw new RangeError('MMD² (unbiased) needs at least two rows in each sample');
  const k = widthOf([...x, ...y]);
  const g = gammaOf(sigma);
  let xx = 0;
  for (let i = 0; i < m; i++) for (let j = i + 1; j < m; j++) xx += Math.exp(-g * squaredDistance(x[i]!, x[j]!, k));
  let yy = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) yy += Math.exp(-g * squaredDistance(y[i]!, y[j]!, k));
  let xy = 0;
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) xy += Math.exp(-g * squaredDistance(x[i]!, y[j]!, k));
  return (2 * xx) / (m * (m - 1)) + (2 * yy) / (n * (n - 1)) - (2 * xy) / (m * n);
}

export interface MmdPermutationResult {
  readonly mmd2: number;
  /** (1 + #{permutations with MMD² ≥ the observed}) / (1 + permutations): a valid p-value (Phipson & Smyth 2010), never 0. */
  readonly pValue: number;
  readonly sigma: number;
  readonly permutations: number;
}

/**
 * A window of cases tested against the reference: the unbiased MMD² and its permutation p-value. The pooled
 * sample (reference rows, then window rows) is relabelled `permutations` times by a seeded Fisher–Yates
 * shuffle (`shuffledIndices` with SeededRandom(seed)): the first m shuffled indices form the reference.
 * The kernel matrix of the pool is computed once; each permutation then costs O((m + n)²).
 *
 * @example mmdPermutationTest(referenceRows, windowRows, { permutations: 1000, seed: 7 }).pValue
 */
export function mmdPermutationTest(
  reference: Rows,
  window: Rows,
  options: { readonly permutations: number; readonly seed: number; readonly sigma?: number },
): MmdPermutationResult {
  const m = reference.length;
  const n = window.length;
  if (m < 2 || n < 2) throw new RangeError('a permutation test needs at least two rows in each sample');
  if (!Number.isInteger(options.permutations) || options.permutations < 1) throw new RangeError('permutations must be a positive integer');
  const sigma = options.sigma ?? medianHeuristicSigma(reference);
  const g = gammaOf(sigma);
  const pool = [...reference, ...window];
  const k = widthOf(pool);
  const total = m + n;
  const K = new Float64Array(total * total);
  for (let i = 0; i < total; i++) {
    K[i * total + i] = 1;
    for (let j = i + 1; j < total; j++) {
      const v = Math.exp(-g * squaredDistance(pool[i]!, pool[j]!, k));
      K[i * total + j] = v;
      K[j * total + i] = v;
    }
  }
  const inX = new Uint8Array(total);
  const statistic = (): number => {
    let xx = 0;
    let yy = 0;
    let xy = 0;
    for (let i = 0; i < total; i++) {
      const row = i * total;
      const xi = inX[i]!;
      for (let j = i + 1; j < total; j++) {
        const v = K[row + j]!;
        const xj = inX[j]!;
        if (xi === 1 && xj === 1) xx += v;
        else if (xi === 0 && xj === 0) yy += v;
        else xy += v;
      }
    }
    return (2 * xx) / (m * (m - 1)) + (2 * yy) / (n * (n - 1)) - (2 * xy) / (m * n);
  };
  for (let i = 0; i < m; i++) inX[i] = 1;
  const observed = statistic();
  const random = new SeededRandom(options.seed);
  let atLeast = 0;
  for (let b = 0; b < options.permutations; b++) {
    const order = shuffledIndices(total, random);
    inX.fill(0);
    for (let i = 0; i < m; i++) inX[order[i]!] = 1;
    if (statistic() >= observed) atLeast++;
  }
  return { mmd2: observed, pValue: (1 + atLeast) / (1 + options.permutations), sigma, permutations: options.permutations };
}

/** How an online MMD detector is designed. */
export interface OnlineMmdDesign {
  /** W, the sliding window of cases compared with the reference (≥ 2). */
  readonly windowSize: number;
  /** The in-control expected run length (cases from a (re)start to a false alarm). */
  readonly ert: number;
  /** Bootstrap splits of the reference the thresholds are set on (alibi-detect's n_bootstraps). */
  readonly bootstraps: number;
  readonly seed: number;
}

/**
 * A designed online MMD detector: plain numbers (JSON). `reference` is the part of the reference the
 * window is compared with (rows of k, flattened), `initialWindow` the W reference rows the window holds at
 * a (re)start, and `thresholds[t]` the threshold after t cases since the (re)start (the last one from t =
 * W − 1 on).
 */
export interface OnlineMmdPlan {
  readonly kind: 'online-mmd';
  /** k, the values per row. */
  readonly dimension: number;
  readonly sigma: number;
  readonly windowSize: number;
  readonly ert: number;
  readonly bootstraps: number;
  readonly seed: number;
  /** Reference rows the plan was designed on (all of them, before the split). */
  readonly referenceRows: number;
  readonly reference: readonly number[];
  readonly initialWindow: readonly number[];
  /** Mean kernel over distinct pairs of `reference`: the constant first term of MMD²ᵤ. */
  readonly referenceKernelMean: number;
  /** Σ over `reference` of k(r, w) for each initial window row. */
  readonly initialCrossSums: readonly number[];
  /** Σ over distinct ordered pairs of the initial window of k. */
  readonly initialWithinSum: number;
  readonly thresholds: readonly number[];
  /** How thresholds past what the bootstraps resolve were set ('empirical' when none needed extrapolating). */
  readonly tail: 'empirical' | 'exponential';
}

/**
 * The fewest bootstrap values the (1 − 1/ERT) quantile is read from directly: with fewer than
 * MIN_EXCEEDANCES expected above it, the tail is extrapolated instead (`upperQuantile`).
 */
const MIN_EXCEEDANCES = 10;
/** The exponential tail is fitted to the largest max(TAIL_MIN, TAIL_SHARE·n) bootstrap values: as far out as the sample allows. */
const TAIL_SHARE = 0.01;
const TAIL_MIN = 100;
/** Reference splits tried before one whose initial window does not itself alarm is accepted. */
const SPLIT_ATTEMPTS = 100;

/**
 * The value exceeded with probability `p` by the distribution `values` samples. With at least
 * MIN_EXCEEDANCES values expected above it, the empirical quantile (linear interpolation, numpy's default,
 * as alibi-detect's `quantile`). Otherwise (an ERT of hundreds of thousands of cases, a few thousand
 * bootstraps) the tail is extrapolated: an exponential above u, the (1 − TAIL_SHARE) quantile, with its
 * scale the mean excess over u (the maximum-likelihood estimate), x = u + β·ln(TAIL_SHARE / p). Why
 * exponential: under the null, n·MMD²ᵤ converges to a weighted sum of centred χ²₁ variables (Gretton et
 * al. 2012, theorem 12), whose tail decays as exp(−x / 2λ₁) — a peaks-over-threshold shape of 0.
 */
export function upperQuantile(values: Float64Array, p: number): { readonly value: number; readonly extrapolated: boolean } {
  const n = values.length;
  if (n === 0) throw new RangeError('no values to take a quantile of');
  const sorted = Float64Array.from(values).sort();
  const at = (q: number): number => {
    const h = (n - 1) * q;
    const lo = Math.floor(h);
    const hi = Math.min(n - 1, lo + 1);
    return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
  };
  if (n * p >= MIN_EXCEEDANCES) return { value: at(1 - p), extrapolated: false };
  const tail = Math.min(n - 1, Math.max(TAIL_MIN, Math.ceil(TAIL_SHARE * n)));
  const share = tail / n;
  const u = sorted[n - 1 - tail]!;
  let excess = 0;
  for (let i = n - tail; i < n; i++) excess += sorted[i]! - u;
  const beta = tail === 0 ? 0 : excess / tail;
  return { value: u + beta * Math.log(share / p), extrapolated: true };
}

/**
 * Designs an online MMD detector on reference rows (the reference images' embedding summaries), as
 * alibi-detect's MMDDriftOnline configures one (cd/pytorch/mmd_online.py, `_configure_thresholds` and
 * `_configure_ref_subset`), deterministic given `seed`:
 *
 * 1. σ by the median heuristic on all N rows; the kernel matrix of the reference, its row sums.
 * 2. `bootstraps` times, a seeded split: 2W − 1 rows as an extended test window, the other m = N − 2W + 1
 *    as the comparison part; the W overlapping windows of the extended one stand for the first W steps
 *    after a start (step t's window: W − t initial rows and t new ones). Each window's MMD²ᵤ costs O(W)
 *    given the previous (the comparison part's sums come from the row sums minus the extended window's
 *    own, O(W²) per bootstrap instead of O(N·W)).
 * 3. Step by step, the threshold is the (1 − 1/ERT) quantile of the statistic over the bootstraps that
 *    have not alarmed at an earlier step (`upperQuantile`), and those that alarm now are dropped: given no
 *    alarm before, each step alarms with probability 1/ERT, so the run length is ≈ geometric with mean ERT.
 *    From step W on the windows hold only new cases and the last threshold holds.
 * 4. The detector's own split (comparison part and initial window) is drawn again until its initial
 *    window is below the first threshold (at most SPLIT_ATTEMPTS times).
 *
 * Needs N ≥ 2W + 1 rows (a comparison part of at least 2). The design is O(N²·k + bootstraps·W²).
 */
export function designOnlineMmd(rows: Rows, design: OnlineMmdDesign): OnlineMmdPlan {
  const W = design.windowSize;
  const n = rows.length;
  if (!Number.isInteger(W) || W < 2) throw new RangeError('the window must hold at least 2 cases');
  if (!(design.ert > 1)) throw new RangeError('the expected run time must exceed 1');
  if (!Number.isInteger(design.bootstraps) || design.bootstraps < 1) throw new RangeError('bootstraps must be a positive integer');
  const etw = 2 * W - 1;
  const m = n - etw;
  if (m < 2) throw new RangeError(`an online MMD with a window of ${W} needs at least ${2 * W + 1} reference rows (got ${n})`);
  const k = widthOf(rows);
  const sigma = medianHeuristicSigma(rows);
  const g = gammaOf(sigma);
  const K = new Float64Array(n * n);
  const rowSums = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    K[i * n + i] = 1;
    for (let j = i + 1; j < n; j++) {
      const v = Math.exp(-g * squaredDistance(rows[i]!, rows[j]!, k));
      K[i * n + j] = v;
      K[j * n + i] = v;
      rowSums[i]! += v;
      rowSums[j]! += v;
    }
  }
  let fullSum = 0;
  for (let i = 0; i < n; i++) fullSum += rowSums[i]!;
  const random = new SeededRandom(design.seed);
  // A seeded partial Fisher–Yates: the last `count` entries of a uniform permutation of 0..n−1, in order.
  const order = new Uint32Array(n);
  const tailOfPermutation = (count: number): Uint32Array => {
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i >= n - count; i--) {
      const j = random.nextInt(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
  };

  const B = design.bootstraps;
  const stats = new Float64Array(B * W);
  const y = new Uint32Array(etw);
  const colX = new Float64Array(etw);
  for (let b = 0; b < B; b++) {
    const perm = tailOfPermutation(etw);
    for (let i = 0; i < etw; i++) y[i] = perm[m + i]!;
    // Σ over the comparison part of k(·, yᵢ): the row sum minus the extended window's own entries.
    let etwSum = 0;
    for (let i = 0; i < etw; i++) {
      const row = y[i]! * n;
      let inside = 0;
      for (let j = 0; j < etw; j++) if (j !== i) inside += K[row + y[j]!]!;
      etwSum += inside;
      colX[i] = rowSums[y[i]!]! - inside;
    }
    let crossAll = 0;
    for (let i = 0; i < etw; i++) crossAll += colX[i]!;
    const kxxMean = (fullSum - etwSum - 2 * crossAll) / (m * (m - 1));
    // The first window y[0..W−1]; then each step drops y[w−1] and takes y[w+W−1].
    let within = 0;
    let cross = 0;
    for (let i = 0; i < W; i++) {
      cross += colX[i]!;
      for (let j = 0; j < W; j++) if (j !== i) within += K[y[i]! * n + y[j]!]!;
    }
    stats[b * W] = kxxMean + within / (W * (W - 1)) - (2 * cross) / (m * W);
    for (let w = 1; w < W; w++) {
      const out = y[w - 1]!;
      const inn = y[w + W - 1]!;
      let outSum = 0;
      let inSum = 0;
      for (let j = w; j < w + W - 1; j++) {
        outSum += K[out * n + y[j]!]!;
        inSum += K[inn * n + y[j]!]!;
      }
      within += 2 * (inSum - outSum);
      cross += colX[w + W - 1]! - colX[w - 1]!;
      stats[b * W + w] = kxxMean + within / (W * (W - 1)) - (2 * cross) / (m * W);
    }
  }

  const p = 1 / design.ert;
  let alive = Array.from({ length: B }, (_, b) => b);
  const thresholds: number[] = [];
  let extrapolated = false;
  for (let w = 0; w < W; w++) {
    if (alive.length === 0) throw new RangeError('every bootstrap alarmed before the window filled: raise the bootstraps or the ERT');
    const q = upperQuantile(
      Float64Array.from(alive, (b) => stats[b * W + w]!),
      p,
    );
    extrapolated ||= q.extrapolated;
    thresholds.push(q.value);
    alive = alive.filter((b) => stats[b * W + w]! < q.value);
  }

  // The detector's own split: the comparison part and an initial window that does not alarm by itself.
  let chosen: { reference: number[]; initialWindow: number[]; referenceKernelMean: number; initialCrossSums: number[]; initialWithinSum: number } | undefined;
  for (let attempt = 0; attempt < SPLIT_ATTEMPTS && chosen === undefined; attempt++) {
    const perm = tailOfPermutation(n);
    const refIdx = Array.from(perm.subarray(0, m));
    const winIdx = Array.from(perm.subarray(n - W));
    let kxx = 0;
    for (const i of refIdx) for (const j of refIdx) if (i !== j) kxx += K[i * n + j]!;
    const referenceKernelMean = kxx / (m * (m - 1));
    const initialCrossSums = winIdx.map((w) => refIdx.reduce((s, r) => s + K[r * n + w]!, 0));
    let within = 0;
    for (const i of winIdx) for (const j of winIdx) if (i !== j) within += K[i * n + j]!;
    const cross = initialCrossSums.reduce((s, v) => s + v, 0);
    const initial = referenceKernelMean + within / (W * (W - 1)) - (2 * cross) / (m * W);
    if (initial < thresholds[0]! || attempt === SPLIT_ATTEMPTS - 1) {
      chosen = {
        reference: refIdx.flatMap((i) => Array.from(rows[i]!)),
        initialWindow: winIdx.flatMap((i) => Array.from(rows[i]!)),
        referenceKernelMean,
        initialCrossSums,
        initialWithinSum: within,
      };
    }
  }
  return {
    kind: 'online-mmd',
    dimension: k,
    sigma,
    windowSize: W,
    ert: design.ert,
    bootstraps: B,
    seed: design.seed,
    referenceRows: n,
    ...chosen!,
    thresholds,
    tail: extrapolated ? 'exponential' : 'empirical',
  };
}

/**
 * The running state of an online MMD detector: O(W·k) plain numbers. The window is a ring: `next` is the
 * slot the next case overwrites (the oldest), `crossSums[s]` the kernel sum of slot s's row against the
 * comparison part, `withinSum` the kernel sum over distinct ordered pairs of the window.
 */
export interface OnlineMmdState {
  /** Cases since the detector (re)started: the time step t. */
  t: number;
  /** Cases consumed in all (the next case's index). */
  cases: number;
  /** Index of the first case since the last (re)start. */
  runStart: number;
  next: number;
  withinSum: number;
  readonly window: number[];
  readonly crossSums: number[];
  /** The statistic after the last case (MMD²ᵤ of the window; that of the initial window at a (re)start). */
  statistic: number;
}

function initialStatistic(plan: OnlineMmdPlan): number {
  const W = plan.windowSize;
  const m = plan.reference.length / plan.dimension;
  const cross = plan.initialCrossSums.reduce((s, v) => s + v, 0);
  return plan.referenceKernelMean + plan.initialWithinSum / (W * (W - 1)) - (2 * cross) / (m * W);
}

export function createOnlineMmdState(plan: OnlineMmdPlan): OnlineMmdState {
  return {
    t: 0,
    cases: 0,
    runStart: 0,
    next: 0,
    withinSum: plan.initialWithinSum,
    window: [...plan.initialWindow],
    crossSums: [...plan.initialCrossSums],
    statistic: initialStatistic(plan),
  };
}

/** A plan's comparison rows as one typed array, made once per plan object (the per-update loop reads them all). */
const PACKED = new WeakMap<OnlineMmdPlan, Float64Array>();
function packedReference(plan: OnlineMmdPlan): Float64Array {
  let packed = PACKED.get(plan);
  if (packed === undefined) {
    packed = Float64Array.from(plan.reference);
    PACKED.set(plan, packed);
  }
  return packed;
}
/** Scratch for the summary being added (k ≤ 64 in practice; a larger k gets its own array). */
const X_SCRATCH = new Float64Array(64);

/** The threshold after t cases since the (re)start. */
export function onlineMmdThreshold(plan: OnlineMmdPlan, t: number): number {
  return plan.thresholds[Math.min(t, plan.windowSize - 1)]!;
}

export interface OnlineMmdStep {
  readonly statistic: number;
  readonly threshold: number;
  /** The case's index (0-based, in the detector's case order). */
  readonly index: number;
  /** Cases since the (re)start, this one included: the run length when it alarms. */
  readonly t: number;
  readonly alarm: boolean;
}

/**
 * Feeds one case's summary (k values) to the detector: the window drops its oldest row and takes this one,
 * and MMD²ᵤ(comparison part, window) is compared with the step's threshold (alarm: statistic > threshold,
 * as alibi-detect). O(N_ref·k) for the new row's kernel sums, O(W·k) for the window's. After an alarm the
 * detector restarts (t = 0, the initial window), so that its alarms form a renewal process, as the CUSUMs'.
 */
export function updateOnlineMmd(plan: OnlineMmdPlan, state: OnlineMmdState, x: ArrayLike<number>): OnlineMmdStep {
  const k = plan.dimension;
  if (x.length !== k) throw new RangeError(`the summary has ${x.length} values, the detector takes ${k}`);
  const W = plan.windowSize;
  const g = 1 / (2 * plan.sigma * plan.sigma);
  const ref = packedReference(plan);
  const m = ref.length / k;
  const xs = X_SCRATCH.length >= k ? X_SCRATCH : new Float64Array(k);
  for (let j = 0; j < k; j++) xs[j] = x[j]!;
  let col = 0;
  for (let base = 0; base < ref.length; base += k) {
    let s = 0;
    for (let j = 0; j < k; j++) {
      const d = ref[base + j]! - xs[j]!;
      s += d * d;
    }
    col += Math.exp(-g * s);
  }
  const win = state.window;
  const o = state.next;
  let outSum = 0;
  let inSum = 0;
  for (let s = 0; s < W; s++) {
    if (s === o) continue;
    let dOut = 0;
    let dIn = 0;
    for (let j = 0; j < k; j++) {
      const w = win[s * k + j]!;
      const a = win[o * k + j]! - w;
      const b = x[j]! - w;
      dOut += a * a;
      dIn += b * b;
    }
    outSum += Math.exp(-g * dOut);
    inSum += Math.exp(-g * dIn);
  }
  state.withinSum += 2 * (inSum - outSum);
  for (let j = 0; j < k; j++) win[o * k + j] = x[j]!;
  state.crossSums[o] = col;
  state.next = (o + 1) % W;
  state.t++;
  const index = state.cases++;
  let cross = 0;
  for (let s = 0; s < W; s++) cross += state.crossSums[s]!;
  const statistic = plan.referenceKernelMean + state.withinSum / (W * (W - 1)) - (2 * cross) / (m * W);
  const threshold = onlineMmdThreshold(plan, state.t);
  const t = state.t;
  state.statistic = statistic;
  const alarm = statistic > threshold;
  if (alarm) restartOnlineMmd(plan, state, index + 1);
  return { statistic, threshold, index, t, alarm };
}

function restartOnlineMmd(plan: OnlineMmdPlan, state: OnlineMmdState, runStart: number): void {
  state.t = 0;
  state.next = 0;
  state.runStart = runStart;
  state.withinSum = plan.initialWithinSum;
  state.window.splice(0, state.window.length, ...plan.initialWindow);
  state.crossSums.splice(0, state.crossSums.length, ...plan.initialCrossSums);
  state.statistic = initialStatistic(plan);
}

/** The comparison part of a plan's reference as rows (for tests and checks against `mmd2Unbiased`). */
export function onlineMmdReferenceRows(plan: OnlineMmdPlan): Float64Array[] {
  const k = plan.dimension;
  return Array.from({ length: plan.reference.length / k }, (_, r) => Float64Array.from(plan.reference.slice(r * k, (r + 1) * k)));
}

/** The window's rows now, oldest first. */
export function onlineMmdWindowRows(plan: OnlineMmdPlan, state: OnlineMmdState): Float64Array[] {
  const k = plan.dimension;
  const W = plan.windowSize;
  return Array.from({ length: W }, (_, i) => {
    const s = (state.next + i) % W;
    return Float64Array.from(state.window.slice(s * k, (s + 1) * k));
  });
}

/** The mean kernel of a summary against the plan's comparison rows: near 1 for a typical reference image, near 0 for one unlike them all. */
export function onlineMmdReferenceAffinity(plan: OnlineMmdPlan, x: ArrayLike<number>): number {
  const k = plan.dimension;
  if (x.length !== k) throw new RangeError(`the summary has ${x.length} values, the detector takes ${k}`);
  const g = 1 / (2 * plan.sigma * plan.sigma);
  const ref = packedReference(plan);
  const m = ref.length / k;
  let sum = 0;
  for (let r = 0; r < m; r++) sum += Math.exp(-g * squaredDistance(ref.subarray(r * k, (r + 1) * k), x, k));
  return sum / m;
}
