/**
 * Intervals for benchmark figures: every throughput/latency figure of `lenet-bench run` comes from
 * several measurement windows, and is reported as the median of the windows with a 95% percentile
 * bootstrap interval (Efron & Tibshirani 1993, ch. 13). Ratios between two backends are computed
 * from *paired* windows (the same interleaved round), so slow drift of a shared machine cancels.
 * Resampling is seeded, so the same windows always give the same interval.
 */
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

/** Below this many windows an interval is not computed (a 95% bootstrap needs some spread to sample). */
export const MIN_WINDOWS = 4;
export const RESAMPLES = 2000;
const LEVEL = 0.95;
const SEED = 0x1e7e7;

function finite(values: readonly number[]): number[] {
  return values.filter((v) => typeof v === 'number' && Number.isFinite(v));
}

/** Percentile bootstrap of a statistic over one sample. */
function bootstrap(values: number[], stat: (xs: number[]) => number): [number, number] {
  const rng = xoroshiro128plus(SEED);
  const n = values.length;
  const estimates = new Float64Array(RESAMPLES);
  const draw = new Array<number>(n);
  for (let b = 0; b < RESAMPLES; b++) {
    for (let i = 0; i < n; i++) draw[i] = values[uniformInt(rng, 0, n - 1)]!;
    estimates[b] = stat(draw);
  }
  const sorted = Array.from(estimates).sort((x, y) => x - y);
  return [quantileSorted(sorted, (1 - LEVEL) / 2), quantileSorted(sorted, 1 - (1 - LEVEL) / 2)];
}

/** Median of the windows with its 95% bootstrap interval. */
export function medianInterval(samples: readonly number[]): Interval | null {
  const xs = finite(samples);
  if (!xs.length) return null;
  const estimate = median(xs);
  if (xs.length < MIN_WINDOWS) return { estimate, low: null, high: null, n: xs.length };
  const [low, high] = bootstrap(xs, median);
  return { estimate, low, high, n: xs.length };
}

/**
 * Ratio a/b from paired windows: the median of a_i / b_i over the pairs, with its bootstrap
 * interval (pairs are resampled together). Pairs with a missing side are dropped.
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
