/**
 * Maximum-likelihood logistic regression of a 0/1 label on one covariate, by Newton's method:
 * P(y = 1) = sigmoid(slope · x + intercept), or with the intercept fixed at 0. Used for the
 * calibration slope and intercept (Cox 1958), Platt scaling and temperature scaling.
 */
export interface LogisticFit {
  /** NaN when no maximum-likelihood estimate exists (`separation` says why). */
  readonly slope: number;
  readonly intercept: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Mean negative log-likelihood at the fit. */
  readonly nll: number;
  /** Set when the data are separated, so the likelihood has no maximum: the fit is not estimable. */
  readonly separation?: Separation;
}

/**
 * Why a logistic regression of y on one covariate has no finite maximum-likelihood estimate
 * (Albert & Anderson 1984, Biometrika 71:1–10): `complete` when some cut of x puts every positive
 * strictly on one side and every negative strictly on the other; `quasi-complete` when the cut
 * holds with ties on it; `one-class` when only one label is present (with an intercept).
 * statsmodels raises PerfectSeparationError on complete separation and does not converge on
 * quasi-complete (reference-metrics.test.ts); the slope then grows without bound (e.g. 108.6 after
 * 100 Newton steps), which is not an estimate.
 */
export interface Separation {
  readonly kind: 'complete' | 'quasi-complete' | 'one-class';
  /** +1 when the positives lie at the high end of x, −1 at the low end, 0 for one class. */
  readonly direction: 1 | -1 | 0;
  readonly description: string;
}

/**
 * Detects separation exactly, before any iteration. With an intercept the cut is any c; without,
 * the cut is x = 0 (the fitted logit a·x has the sign of a·x).
 */
export function detectSeparation(x: ArrayLike<number>, y: ArrayLike<number>, withIntercept = true): Separation | undefined {
  let minPos = Number.POSITIVE_INFINITY;
  let maxPos = Number.NEGATIVE_INFINITY;
  let minNeg = Number.POSITIVE_INFINITY;
  let maxNeg = Number.NEGATIVE_INFINITY;
  let positives = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (y[i] === 1) {
      positives++;
      minPos = Math.min(minPos, v);
      maxPos = Math.max(maxPos, v);
    } else {
      minNeg = Math.min(minNeg, v);
      maxNeg = Math.max(maxNeg, v);
    }
  }
  const negatives = x.length - positives;
  if (withIntercept) {
    if (positives === 0 || negatives === 0) {
      return { kind: 'one-class', direction: 0, description: `only ${positives === 0 ? 'negative' : 'positive'} cases: the intercept diverges` };
    }
    for (const [direction, low, high] of [
      [1, maxNeg, minPos],
      [-1, maxPos, minNeg],
    ] as const) {
      if (low < high) {
        return {
          kind: 'complete',
          direction,
          description: `every ${direction === 1 ? 'positive' : 'negative'} case scores above every ${direction === 1 ? 'negative' : 'positive'} one: the classes are perfectly separated`,
        };
      }
      if (low === high) {
        return {
          kind: 'quasi-complete',
          direction,
          description: `the classes are separated except for ties at one score (quasi-complete separation)`,
        };
      }
    }
    return undefined;
  }
  // Without intercept: positives all at x >= 0 and negatives all at x <= 0 (or the mirror image).
  for (const [direction, posOk, negOk, strict] of [
    [1, minPos >= 0, maxNeg <= 0, minPos > 0 && maxNeg < 0],
    [-1, maxPos <= 0, minNeg >= 0, maxPos < 0 && minNeg > 0],
  ] as const) {
    if (posOk && negOk) {
      return {
        kind: strict ? 'complete' : 'quasi-complete',
        direction,
        description: `every ${direction === 1 ? 'positive' : 'negative'} case has a logit of at least 0 and every other case at most 0: the classes are separated at 0`,
      };
    }
  }
  return undefined;
}

export function fitLogistic(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { readonly withIntercept?: boolean; readonly maxIterations?: number } = {},
): LogisticFit {
  const withIntercept = options.withIntercept ?? true;
  const maxIterations = options.maxIterations ?? 100;
  const n = x.length;
  const separation = detectSeparation(x, y, withIntercept);
  if (separation !== undefined) return { slope: Number.NaN, intercept: Number.NaN, iterations: 0, converged: false, nll: Number.NaN, separation };
  let a = withIntercept ? 0 : 1;
  let b = 0;
  let converged = false;
  let iterations = 0;
  let previous = meanNll(x, y, a, b);
  for (; iterations < maxIterations && !converged; iterations++) {
    // Gradient and Hessian of the total negative log-likelihood.
    let ga = 0;
    let gb = 0;
    let haa = 0;
    let hab = 0;
    let hbb = 0;
    for (let i = 0; i < n; i++) {
      const xi = x[i]!;
      const p = sigmoid(a * xi + b);
      const r = p - y[i]!;
      const w = p * (1 - p);
      ga += r * xi;
      gb += r;
      haa += w * xi * xi;
      hab += w * xi;
      hbb += w;
    }
    let da: number;
    let db: number;
    if (withIntercept) {
      const det = haa * hbb - hab * hab;
      if (!(det > 0)) break;
      da = (hbb * ga - hab * gb) / det;
      db = (haa * gb - hab * ga) / det;
    } else {
      if (!(haa > 0)) break;
      da = ga / haa;
      db = 0;
    }
    // Newton step, halved until the likelihood does not get worse (separable data would diverge).
    let step = 1;
    let next = meanNll(x, y, a - step * da, b - step * db);
    while (next > previous + 1e-15 && step > 1e-10) {
      step /= 2;
      next = meanNll(x, y, a - step * da, b - step * db);
    }
    a -= step * da;
    b -= step * db;
    converged = Math.abs(step * da) < 1e-12 * (1 + Math.abs(a)) && Math.abs(step * db) < 1e-12 * (1 + Math.abs(b));
    previous = next;
  }
  return { slope: a, intercept: b, iterations, converged, nll: previous };
}

export function meanNll(x: ArrayLike<number>, y: ArrayLike<number>, slope: number, intercept: number): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const z = slope * x[i]! + intercept;
    // −log sigmoid(z) = softplus(−z), computed without overflow.
    s += y[i] === 1 ? softplus(-z) : softplus(z);
  }
  return s / x.length;
}

function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
