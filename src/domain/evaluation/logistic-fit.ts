/**
 * Maximum-likelihood logistic regression of a 0/1 label on one covariate, by Newton's method:
 * P(y = 1) = sigmoid(slope · x + intercept), or with the intercept fixed at 0. Used for the
 * calibration slope and intercept (Cox 1958), Platt scaling and temperature scaling.
 */
export interface LogisticFit {
  readonly slope: number;
  readonly intercept: number;
  readonly iterations: number;
  readonly converged: boolean;
  /** Mean negative log-likelihood at the fit. */
  readonly nll: number;
}

export function fitLogistic(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: { readonly withIntercept?: boolean; readonly maxIterations?: number } = {},
): LogisticFit {
  const withIntercept = options.withIntercept ?? true;
  const maxIterations = options.maxIterations ?? 100;
  const n = x.length;
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
