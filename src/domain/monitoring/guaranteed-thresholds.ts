import { SeededRandom } from '../evaluation/random.js';
import { calibrateThreshold, incrementDistribution } from './cusum.js';
import { buildNormalScorer, normalScore } from './normal-score.js';

/**
 * Thresholds that allow for the reference being a sample (guaranteed conditional performance, Gandy &
 * Kvaløy, Scand. J. Statistics 40, 2013): resample the reference, design the chart again on each
 * resample, find the threshold at which that chart's in-control ARL *under the original reference*
 * reaches the target, and take an upper quantile of those thresholds. With probability ≈ `quantile`
 * over the sampling of the reference, the chart's in-control ARL then reaches the target.
 *
 * Made fast enough to run when a deployment is designed (the plain per-signal bootstrap cost ≈ 0.7 s
 * per resample for the demo's 16 detectors, 140 s at 200 resamples):
 *
 * - **Continuous signals (normal scores).** A normal score depends on a value only through its rank
 *   in the reference, so for a reference without ties the bootstrap distribution of h depends on n,
 *   k, the target and the chain only — not on the signal's values. It is computed once on the ranks
 *   0 … n − 1 and cached (`continuousThresholdInflation`): every tie-free continuous signal of every
 *   deployment with the same n shares it, and both directions do (reversing the ranks maps a
 *   multinomial resample to one of equal probability and negates every score). The guaranteed h is
 *   the nominal h plus the inflation q-quantile(h_b) − h(ranks); for a tie-free signal this equals
 *   the q-quantile of the per-signal bootstrap thresholds exactly (same draws: the test checks it);
 *   with ties it is the tie-free inflation added to the tie-aware nominal threshold (an approximation;
 *   ties make the scores coarser, not the estimation error larger).
 * - **Indicators (Bernoulli CUSUM).** The chart is designed at a bootstrap confidence bound of the
 *   rate (`indicatorGuaranteedRate`): one Binomial draw per resample and one calibration in all.
 */
export interface GuaranteeOptions {
  readonly bootstraps: number;
  readonly quantile: number;
  readonly seed: number;
}

/** The q-quantile of `values` by the order statistic at ⌈q·n⌉ (conservative: never interpolated down). */
export function upperQuantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * The bootstrap thresholds h_b of a continuous (normal-score) detector whose reference is `finite`
 * (the finite reference values): on each resample, the normal scorer of the resample applied to the
 * original values gives the increments sign·z − k, and h_b is the threshold at which their CUSUM
 * reaches `targetArl`. The per-signal bootstrap, kept as the definition the cached inflation is tested against.
 */
export function continuousBootstrapThresholds(
  finite: ArrayLike<number>,
  sign: 1 | -1,
  k: number,
  targetArl: number,
  states: number,
  options: GuaranteeOptions,
): number[] {
  const random = new SeededRandom(options.seed);
  // Resampled in sorted order (the sample's order does not matter to a bootstrap): draw j then picks the
  // j-th smallest value, so a tie-free signal gets the same resamples, rank for rank, as the ranks 0 … n − 1.
  const sorted = Float64Array.from(finite).sort();
  const n = sorted.length;
  const hs: number[] = [];
  for (let b = 0; b < options.bootstraps; b++) {
    const resampled = buildNormalScorer(Float64Array.from({ length: n }, () => sorted[random.nextInt(n)]!));
    const increments = Float64Array.from({ length: n }, (_, i) => sign * normalScore(resampled, sorted[i]!) - k);
    let mean = 0;
    for (const x of increments) mean += x / n;
    // Increments drifting upwards under the reference: no threshold reaches the target (h_b = ∞).
    hs.push(mean >= 0 ? Number.POSITIVE_INFINITY : calibrateThreshold(incrementDistribution(increments), targetArl, states).h);
  }
  return hs;
}

const INFLATION_CACHE = new Map<string, number>();

/**
 * How much a continuous detector's threshold must rise for the guarantee: q-quantile(h_b) − h₀,
 * computed on the ranks 0 … n − 1 (h₀ their nominal threshold) and cached by (n, k, target, chain
 * size, bootstraps, quantile, seed). Never negative. Pure: the cache only remembers a deterministic result.
 */
export function continuousThresholdInflation(n: number, k: number, targetArl: number, states: number, options: GuaranteeOptions): number {
  const key = [n, k, targetArl, states, options.bootstraps, options.quantile, options.seed].join('|');
  let inflation = INFLATION_CACHE.get(key);
  if (inflation === undefined) {
    const ranks = Float64Array.from({ length: n }, (_, i) => i);
    const scorer = buildNormalScorer(ranks);
    const nominal = calibrateThreshold(incrementDistribution(ranks.map((r) => normalScore(scorer, r) - k)), targetArl, states).h;
    const hs = continuousBootstrapThresholds(ranks, 1, k, targetArl, states, options);
    inflation = Math.max(0, upperQuantile(hs, options.quantile) - nominal);
    if (!Number.isFinite(inflation)) throw new RangeError('the reference has too few cases for a guaranteed threshold at this quantile');
    INFLATION_CACHE.set(key, inflation);
  }
  return inflation;
}

/**
 * The rate a Bernoulli CUSUM is designed at so that its in-control ARL reaches the target with
 * probability ≈ `quantile` over the sampling of the reference: an upper (watching upwards; lower,
 * downwards) bootstrap confidence bound of the rate. A count of events in n reference cases is
 * resampled from Binomial(n, p₀) with p₀ = (x + ½)/(n + 1) (Jeffreys-smoothed, so that a rate never
 * seen still varies), each resample's rate smoothed alike, and the bound is their `quantile`
 * (1 − `quantile` downwards). Why a bound rather than Gandy & Kvaløy's quantile of thresholds: an
 * upward chart's in-control ARL falls monotonically as the true rate rises, so a chart designed and
 * calibrated at a rate the truth stays below (probability ≈ q) reaches its target; whereas a chart
 * designed at a resample's low rate, run at the reference's, drifts upwards when the two differ by
 * more than about half the tuned change — then no threshold reaches the target (h_b = ∞) — which for
 * a rare event in a few hundred cases (14 referrals in 262) happens in more than 1 − q of resamples.
 */
export function indicatorGuaranteedRate(ones: number, n: number, up: boolean, options: GuaranteeOptions): number {
  const p0 = (ones + 0.5) / (n + 1);
  const random = new SeededRandom(options.seed);
  const rates: number[] = [];
  for (let b = 0; b < options.bootstraps; b++) {
    let count = 0;
    for (let i = 0; i < n; i++) if (random.nextFloat() < p0) count++;
    rates.push((count + 0.5) / (n + 1));
  }
  return up
    ? Math.max(p0, upperQuantile(rates, options.quantile))
    : Math.min(
        p0,
        -upperQuantile(
          rates.map((r) => -r),
          options.quantile,
        ),
      );
}
