/**
 * Order statistics for noisy timings. The machine is shared and has 2 cores, so every figure the bench
 * reports is a median (with its interquartile range), and comparisons are ratios of medians.
 */

/** Linear-interpolated quantile of `values` (q in [0, 1]); NaN for an empty list. */
export function quantile(values, q) {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function median(values) {
  return quantile(values, 0.5);
}

/** Median, quartiles, min, max and count of a list of samples (milliseconds, usually). */
export function summarize(values) {
  return {
    n: values.length,
    median: round(median(values)),
    p25: round(quantile(values, 0.25)),
    p75: round(quantile(values, 0.75)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

/** Geometric mean: the right average for ratios. Null when no finite positive value is given. */
export function geometricMean(values) {
  const usable = values.filter((v) => Number.isFinite(v) && v > 0);
  if (usable.length === 0) return null;
  return round(Math.exp(usable.reduce((sum, v) => sum + Math.log(v), 0) / usable.length));
}

/** `numerator / denominator`, or null when either is missing, not finite or not positive. */
export function ratio(numerator, denominator) {
  if (!(Number.isFinite(numerator) && Number.isFinite(denominator)) || numerator <= 0 || denominator <= 0) return null;
  return round(numerator / denominator);
}

/** Four significant digits: enough for medians of noisy timings, short in JSON. */
export function round(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return value ?? null;
  if (value === 0) return 0;
  const digits = Math.max(0, 3 - Math.floor(Math.log10(Math.abs(value))));
  return Number(value.toFixed(Math.min(digits, 6)));
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Times `fn` (sync or async) `warmup` times untimed, then at least `minReps` times and until `minTotalMs`
 * of measured time has passed (capped at `maxReps`). Returns the per-call samples in milliseconds.
 */
export async function sampleTimes(fn, { warmup = 1, minReps = 10, maxReps = 200, minTotalMs = 0 } = {}) {
  for (let i = 0; i < warmup; i++) await fn();
  const samples = [];
  let total = 0;
  while (samples.length < minReps || (total < minTotalMs && samples.length < maxReps)) {
    const start = nowMs();
    await fn();
    const elapsed = nowMs() - start;
    samples.push(elapsed);
    total += elapsed;
  }
  return samples;
}
