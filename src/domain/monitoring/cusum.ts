/**
 * The one-sided CUSUM (Page 1954): S₀ = 0, Sₜ = max(0, Sₜ₋₁ + Xₜ), alarm when Sₜ ≥ h. Xₜ is the
 * per-case increment: for a standardized value z watched upwards, z − k; downwards, −z − k (k, the
 * reference value, is half the shift in SD units the chart is tuned to); for a 0/1 indicator, the
 * log-likelihood ratio of Bernoulli(p₁) against Bernoulli(p₀) (the Bernoulli CUSUM, Reynolds &
 * Stoumbos 1999). A two-sided chart is two one-sided ones.
 */
export function cusumStep(statistic: number, increment: number): number {
  const next = statistic + increment;
  return next > 0 ? next : 0;
}

/** The CUSUM path over a series of increments, resetting to 0 after each alarm (statistic ≥ h). */
export function cusumPath(increments: ArrayLike<number>, h: number): { readonly path: Float64Array; readonly alarms: number[] } {
  const path = new Float64Array(increments.length);
  const alarms: number[] = [];
  let s = 0;
  for (let t = 0; t < increments.length; t++) {
    s = cusumStep(s, increments[t]!);
    path[t] = s;
    if (s >= h) {
      alarms.push(t);
      s = 0;
    }
  }
  return { path, alarms };
}

/** A discrete distribution of the increment: atoms and their probabilities (weights are normalised). */
export interface IncrementDistribution {
  /** Atom values, ascending and distinct. */
  readonly values: Float64Array;
  /** P(X < values[i]) for each atom, and 1 at index values.length: the left-continuous CDF at the atoms. */
  readonly below: Float64Array;
}

/** Builds the distribution of atoms `values` with weights (equal weights when omitted). */
export function incrementDistribution(values: ArrayLike<number>, weights?: ArrayLike<number>): IncrementDistribution {
  const pairs = Array.from({ length: values.length }, (_, i) => [values[i]!, weights === undefined ? 1 : weights[i]!] as const).filter(
    ([v, w]) => Number.isFinite(v) && w > 0,
  );
  if (pairs.length === 0) throw new RangeError('an increment distribution needs at least one atom with positive weight');
  pairs.sort((a, b) => a[0] - b[0]);
  const atoms: number[] = [];
  const mass: number[] = [];
  for (const [v, w] of pairs) {
    if (atoms.length > 0 && atoms[atoms.length - 1] === v) mass[mass.length - 1]! += w;
    else {
      atoms.push(v);
      mass.push(w);
    }
  }
  const total = mass.reduce((a, b) => a + b, 0);
  const below = new Float64Array(atoms.length + 1);
  let cumulative = 0;
  for (let i = 0; i < atoms.length; i++) {
    below[i] = cumulative / total;
    cumulative += mass[i]!;
  }
  below[atoms.length] = 1;
  return { values: Float64Array.from(atoms), below };
}

/** P(X < t). */
export function probabilityBelow(d: IncrementDistribution, t: number): number {
  const v = d.values;
  let lo = 0;
  let hi = v.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (v[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return d.below[lo]!;
}

/** Default number of transient states of the Markov-chain approximation. */
export const ARL_STATES = 150;

/**
 * The in-control average run length (expected cases to the first alarm, starting from S = 0) of a
 * one-sided CUSUM with threshold h whose increments are independent draws from `d`, by the
 * Markov-chain approximation of Brook & Evans (Biometrika 59, 1972): [0, h) is cut into `states`
 * cells, w = 2h / (2·states − 1); cell 0 is {S < w/2} (it holds the reset to 0) and cell j ≥ 1 is
 * [(j − ½)w, (j + ½)w), represented by jw; S ≥ h = (states − ½)w absorbs. With R the transition
 * matrix among the transient cells, the run lengths solve (I − R)·L = 1, and ARL = L₀.
 *
 * With `d` the empirical distribution of the reference's increments, this is the ARL of the CUSUM
 * on bootstrap resamples of the reference, computed instead of simulated. Infinite when the chain
 * cannot reach h (no positive atom).
 */
export function cusumArl(d: IncrementDistribution, h: number, states: number = ARL_STATES): number {
  if (!(h > 0)) return 1 / (1 - probabilityBelow(d, 0));
  if (d.values[d.values.length - 1]! <= 0) return Number.POSITIVE_INFINITY;
  const m = states;
  const w = (2 * h) / (2 * m - 1);
  // A = I − R, row-major, then Gaussian elimination with partial pivoting on [A | 1].
  const a = new Float64Array(m * m);
  const b = new Float64Array(m).fill(1);
  for (let i = 0; i < m; i++) {
    const from = i * w;
    let previous = probabilityBelow(d, w / 2 - from);
    a[i * m] = -previous;
    for (let j = 1; j < m; j++) {
      const upper = probabilityBelow(d, (j + 0.5) * w - from);
      a[i * m + j] = -(upper - previous);
      previous = upper;
    }
    a[i * m + i]! += 1;
  }
  return solveFirst(a, b, m);
}

/** Solves A·x = b (A m × m, row-major; both overwritten) and returns x₀. */
function solveFirst(a: Float64Array, b: Float64Array, m: number): number {
  for (let col = 0; col < m; col++) {
    let pivot = col;
    let best = Math.abs(a[col * m + col]!);
    for (let r = col + 1; r < m; r++) {
      const v = Math.abs(a[r * m + col]!);
      if (v > best) {
        best = v;
        pivot = r;
      }
    }
    if (best === 0) return Number.POSITIVE_INFINITY;
    if (pivot !== col) {
      for (let c = col; c < m; c++) {
        const t = a[col * m + c]!;
        a[col * m + c] = a[pivot * m + c]!;
        a[pivot * m + c] = t;
      }
      const t = b[col]!;
      b[col] = b[pivot]!;
      b[pivot] = t;
    }
    const diagonal = a[col * m + col]!;
    for (let r = col + 1; r < m; r++) {
      const f = a[r * m + col]! / diagonal;
      if (f === 0) continue;
      for (let c = col; c < m; c++) a[r * m + c]! -= f * a[col * m + c]!;
      b[r]! -= f * b[col]!;
    }
  }
  const x = new Float64Array(m);
  for (let r = m - 1; r >= 0; r--) {
    let sum = b[r]!;
    for (let c = r + 1; c < m; c++) sum -= a[r * m + c]! * x[c]!;
    x[r] = sum / a[r * m + r]!;
  }
  return x[0]!;
}

/**
 * The smallest threshold h (to a relative 1e-5) whose in-control ARL reaches `targetArl`. ln ARL is
 * close to linear in h (Siegmund: ARL ≈ e^(2kh)/(2k²) for large h), so after bracketing the root of
 * ln ARL(h) − ln target the Illinois variant of regula falsi converges in a handful of chain solves;
 * the answer is the bracket's upper end, whose ARL is at or above the target. Deterministic.
 */
export function calibrateThreshold(d: IncrementDistribution, targetArl: number, states: number = ARL_STATES): { readonly h: number; readonly arl: number } {
  if (!(targetArl > 1)) throw new RangeError('the target ARL must exceed 1');
  const goal = Math.log(targetArl);
  let lo = 0;
  let fLo = Math.log(cusumArl(d, 0, states)) - goal;
  let hi = 1;
  let arlHi = cusumArl(d, hi, states);
  let fHi = Math.log(arlHi) - goal;
  for (let i = 0; fHi < 0; i++) {
    if (i > 60) throw new RangeError('no threshold reaches the target ARL (the increments drift upwards)');
    lo = hi;
    fLo = fHi;
    hi *= 2;
    arlHi = cusumArl(d, hi, states);
    fHi = Math.log(arlHi) - goal;
  }
  if (!Number.isFinite(fHi)) {
    // The chain cannot reach hi at all: plain bisection towards the smallest reachable threshold.
    fHi = 1;
  }
  let side = 0;
  for (let i = 0; i < 200 && hi - lo > 1e-5 * hi; i++) {
    // Regula falsi point, kept off the ends; bisection when the secant is unusable.
    let mid = (lo * fHi - hi * fLo) / (fHi - fLo);
    if (!(mid > lo && mid < hi) || !Number.isFinite(mid)) mid = (lo + hi) / 2;
    const arl = cusumArl(d, mid, states);
    const f = Math.log(arl) - goal;
    if (f >= 0) {
      hi = mid;
      arlHi = arl;
      fHi = Number.isFinite(f) ? f : 1;
      if (side === 1) fLo /= 2; // Illinois: halve the stale end's value so both ends move
      side = 1;
    } else {
      lo = mid;
      fLo = f;
      if (side === -1) fHi /= 2;
      side = -1;
    }
  }
  return { h: hi, arl: arlHi };
}

/**
 * Siegmund's approximation (Sequential Analysis, 1985, §X.2) of a one-sided CUSUM's ARL for normal
 * increments of mean Δ and unit variance: ARL ≈ (e^(−2Δb) + 2Δb − 1) / (2Δ²), b = h + 1.166 (Δ = 0:
 * b²). With standardized values and reference value k, Δ = μ − k (in control, −k). A cross-check of
 * `cusumArl`, and what tools such as the FDA's AIM-CU tabulate.
 */
export function siegmundArl(h: number, drift: number): number {
  const b = h + 1.166;
  if (drift === 0) return b * b;
  return (Math.exp(-2 * drift * b) + 2 * drift * b - 1) / (2 * drift * drift);
}

/**
 * The Bernoulli CUSUM tuned to a change of a rate p₀ by `oddsRatio` (p₁/(1 − p₁) = OR·p₀/(1 − p₀)):
 * the rate p₁ and the per-case increments, the log-likelihood ratios ln(p₁/p₀) for a 1 and
 * ln((1 − p₁)/(1 − p₀)) for a 0 (Reynolds & Stoumbos, J. Quality Technology 31, 1999).
 */
export function bernoulliCusumIncrements(p0: number, oddsRatio: number): { readonly p1: number; readonly one: number; readonly zero: number } {
  if (!(p0 > 0 && p0 < 1) || !(oddsRatio > 0)) throw new RangeError('p0 must lie in (0, 1) and the odds ratio be positive');
  const odds = (p0 / (1 - p0)) * oddsRatio;
  const p1 = odds / (1 + odds);
  return { p1, one: Math.log(p1 / p0), zero: Math.log((1 - p1) / (1 - p0)) };
}

/**
 * A Bernoulli CUSUM on a lattice (Reynolds & Stoumbos 1999, §3): the increments are rounded to
 * multiples of a step u — +a·u for a 1, −b·u for a 0 (a, b ≥ 1 integers) — and the chart as run
 * uses the rounded increments, so its statistic only takes values i·u and the Markov chain below is
 * exact. (Watching a rate downwards, the outcome that raises the chart is a 0: `increase` is then
 * the increment of a 0.) u is the smaller step / 20 (rounding error of the larger ≤ 2.5 % of
 * the smaller), coarsened to the larger step / 200 when the two differ by more than ten times (a rare
 * event: then each 0 takes off at least the rounded −u, slightly more than its log-likelihood ratio,
 * which makes the chart forget an isolated event sooner and keeps the chain small).
 */
export interface LatticeIncrements {
  readonly step: number;
  readonly up: number;
  readonly down: number;
}
export function latticeIncrements(increase: number, decrease: number): LatticeIncrements {
  if (!(increase > 0) || !(decrease < 0)) throw new RangeError('a Bernoulli CUSUM needs one outcome that raises it and one that lowers it');
  const small = Math.min(increase, -decrease);
  const large = Math.max(increase, -decrease);
  const step = Math.max(small / 20, large / 200);
  return { step, up: Math.max(1, Math.round(increase / step)), down: Math.max(1, Math.round(-decrease / step)) };
}

/**
 * The exact in-control ARL of a lattice Bernoulli CUSUM whose raising outcome has probability p, threshold `states`·u
 * (alarm when the integer state reaches `states`), from 0: (I − R)·L = 1 over states 0 … states − 1,
 * where state i goes to i + up (absorbed at ≥ states) with probability p and to max(0, i − down)
 * otherwise. I − R is banded (down below the diagonal, up above it) and diagonally dominant, so
 * Gaussian elimination without pivoting inside the band solves it in O(states·down·(up + down)).
 */
export function latticeCusumArl(lattice: LatticeIncrements, p: number, states: number): number {
  const { up, down } = lattice;
  const n = states;
  const width = up + down + 1;
  // Row i holds columns i − down … i + up at offsets 0 … width − 1.
  const band = new Float64Array(n * width);
  const b = new Float64Array(n).fill(1);
  const at = (i: number, j: number): number => i * width + (j - i + down);
  for (let i = 0; i < n; i++) {
    band[at(i, i)] = 1;
    band[at(i, Math.max(0, i - down))]! -= 1 - p;
    if (i + up < n) band[at(i, i + up)]! -= p;
  }
  for (let c = 0; c < n; c++) {
    const pivot = band[at(c, c)]!;
    if (pivot === 0) return Number.POSITIVE_INFINITY;
    const last = Math.min(n - 1, c + down);
    for (let r = c + 1; r <= last; r++) {
      const f = band[at(r, c)]! / pivot;
      if (f === 0) continue;
      const end = Math.min(n - 1, c + up);
      for (let j = c; j <= end; j++) band[at(r, j)]! -= f * band[at(c, j)]!;
      b[r]! -= f * b[c]!;
    }
  }
  const x = new Float64Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let sum = b[r]!;
    const end = Math.min(n - 1, r + up);
    for (let j = r + 1; j <= end; j++) sum -= band[at(r, j)]! * x[j]!;
    x[r] = sum / band[at(r, r)]!;
  }
  return x[0]!;
}

/** The smallest integer threshold (in lattice steps) whose exact in-control ARL reaches `targetArl`. */
export function calibrateLatticeThreshold(lattice: LatticeIncrements, p: number, targetArl: number): { readonly states: number; readonly arl: number } {
  if (!(targetArl > 1)) throw new RangeError('the target ARL must exceed 1');
  let lo = 1;
  let hi = Math.max(2, lattice.up);
  let arlHi = latticeCusumArl(lattice, p, hi);
  for (let i = 0; arlHi < targetArl; i++) {
    if (i > 40) throw new RangeError('no threshold reaches the target ARL (the increments drift upwards)');
    lo = hi;
    hi *= 2;
    arlHi = latticeCusumArl(lattice, p, hi);
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    const arl = latticeCusumArl(lattice, p, mid);
    if (arl >= targetArl) {
      hi = mid;
      arlHi = arl;
    } else lo = mid;
  }
  return { states: hi, arl: arlHi };
}
