/**
 * Intervals for benchmark figures: every throughput/latency figure of `lenet-bench run` comes from
 * several measurement windows, and is reported as the median of the windows with its distribution-
 * free 95% confidence interval from order statistics (the binomial "sign test" interval for a
 * median: Conover, Practical Nonparametric Statistics, 3rd ed., §3.2). Ratios between two backends
 * are computed from *paired* windows (the same interleaved round), so slow drift of a shared machine
 * cancels, and get the same interval over the per-round ratios.
 *
 * Why not a percentile bootstrap of the median: with the 6–30 windows a run has, it under-covers
 * (the bootstrap distribution of a median of few values sits on a handful of order statistics), and
 * two default runs of one commit gave ratio intervals that did not overlap. The order-statistic
 * interval is exact for any continuous distribution (coverage >= 95%, from the binomial law alone),
 * needs no resampling, and is what a reviewer can check by hand: the k-th smallest and k-th largest
 * window. Its price: it needs at least 6 windows (with 5, even [min, max] covers only 93.75%).
 *
 * Ratios between two *independent* sets of windows (two runs in `compare`) use a seeded percentile
 * bootstrap of the ratio of medians (Efron & Tibshirani 1993, ch. 13): there is no pairing there.
 */
import jStat from 'jstat';
import { median, quantileSorted } from 'simple-statistics';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

/** A point estimate with its 95% interval; low/high are null when there are too few windows. */
export interface Interval {
  /** Median of the windows (or of the paired ratios). */
  estimate: number;
  low: number | null;
  high: number | null;
  /** Windows (or pairs) behind it. */
  n: number;
}

/** Below this many windows no interval is given: even [min, max] covers < 95% of medians for n <= 5. */
export const MIN_WINDOWS = 6;
export const RESAMPLES = 2000;
const LEVEL = 0.95;
const SEED = 0x1e7e7;

function finite(values: readonly number[]): number[] {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

/**
 * Rank k (1-based) of the order-statistic interval [x(k), x(n+1-k)] for the median of n values: the
 * largest k whose coverage 1 - 2·P(B <= k-1), B ~ Binomial(n, 1/2), is still >= 95%; null when
 * even k = 1 falls short (n < 6). The binomial CDF comes from jstat.
 */
export function medianRank(n: number): number | null {
  let k: number | null = null;
  for (let r = 1; r <= Math.floor(n / 2); r++) {
    if (2 * jStat.binomial.cdf(r - 1, n, 0.5) <= 1 - LEVEL + 1e-12) k = r;
    else break;
  }
  return k;
}

/** Median of the windows with its exact 95% order-statistic interval. */
export function medianInterval(samples: readonly number[]): Interval | null {
  const xs = finite(samples);
  if (!xs.length) return null;
  const estimate = median(xs);
  const k = medianRank(xs.length);
  if (xs.length < MIN_WINDOWS || k === null) return { estimate, low: null, high: null, n: xs.length };
  const sorted = [...xs].sort((x, y) => x - y);
  return { estimate, low: sorted[k - 1]!, high: sorted[xs.length - k]!, n: xs.length };
}

/**
 * Ratio a/b from paired windows: the median of a_i / b_i over the pairs, with its order-statistic
 * interval. Pairs with a missing side are dropped.
 */
export function pairedRatioInterval(pairs: readonly (readonly [number, number])[]): Interval | null {
  const ratios = finite(pairs.filter(([a, b]) => a > 0 && b > 0).map(([a, b]) => a / b));
  return medianInterval(ratios);
}

/** Ratio of the medians of two independent sets of windows (e.g. two runs in `compare`). */
export function independentRatioInterval(a: readonly number[], b: readonly number[]): Interval | null {
  const xa = finite(a).filter((v) => v > 0);
  const xb = finite(b).filter((v) => v > 0);
  if (!xa.length || !xb.length) return null;
  const estimate = median(xa) / median(xb);
  const n = Math.min(xa.length, xb.length);
  if (n < MIN_WINDOWS) return { estimate, low: null, high: null, n };
  const rng = xoroshiro128plus(SEED);
  const est = new Float64Array(RESAMPLES);
  const da = new Array<number>(xa.length);
  const db = new Array<number>(xb.length);
  for (let r = 0; r < RESAMPLES; r++) {
    for (let i = 0; i < xa.length; i++) da[i] = xa[uniformInt(rng, 0, xa.length - 1)]!;
    for (let i = 0; i < xb.length; i++) db[i] = xb[uniformInt(rng, 0, xb.length - 1)]!;
    est[r] = median(da) / median(db);
  }
  const sorted = Array.from(est).sort((x, y) => x - y);
  return { estimate, low: quantileSorted(sorted, 0.025), high: quantileSorted(sorted, 0.975), n };
}

/** For a ratio interval: is 1 (no difference) outside it? */
export type RatioVerdict = 'higher' | 'lower' | 'not distinguishable' | 'too few windows';

export function ratioVerdict(iv: Interval | null): RatioVerdict {
  if (!iv || iv.low === null || iv.high === null) return 'too few windows';
  if (iv.low > 1) return 'higher';
  if (iv.high < 1) return 'lower';
  return 'not distinguishable';
}

/** Do two intervals of the same quantity overlap (then the two cannot be ranked)? */
export function overlaps(a: Interval | null, b: Interval | null): boolean {
  if (!a || !b || a.low === null || a.high === null || b.low === null || b.high === null) return true;
  return a.low <= b.high && b.low <= a.high;
}

/** "1.23× [1.18–1.29]" style text; digits adapt to the size. */
export function formatRatio(iv: Interval | null): string {
  if (!iv) return '–';
  const d = (v: number) => v.toFixed(v >= 10 ? 0 : v >= 1 ? 2 : 3);
  return iv.low === null || iv.high === null ? `${d(iv.estimate)}×` : `${d(iv.estimate)}× [${d(iv.low)}–${d(iv.high)}]`;
}

/** "12,345 [12,001–12,700]" for throughputs, with `digits` decimals. */
export function formatInterval(iv: Interval | null, digits = 0): string {
  if (!iv) return '–';
  const f = (v: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return iv.low === null || iv.high === null ? f(iv.estimate) : `${f(iv.estimate)} [${f(iv.low)}–${f(iv.high)}]`;
}
