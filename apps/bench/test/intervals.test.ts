// Intervals and paired ratios of `lenet-bench run` (src/stats/intervals.ts, src/run/results.ts):
// deterministic (seeded bootstrap), the textbook properties, and the pairing by round.
import { describe, expect, it } from 'vitest';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { formatRatio, independentRatioInterval, medianInterval, medianRank, MIN_WINDOWS, overlaps, pairedRatioInterval, ratioVerdict } from '../src/stats/intervals.js';
import { computeComparisons, trainingWindowRates } from '../src/run/results.js';
import { rotate } from '../src/run/runner.js';
import type { BackendResult, InferenceWindow, TrainWindow } from '../src/run/types.js';

describe('medianInterval', () => {
  it('brackets the median, is deterministic, and narrows with more windows', () => {
    const xs = [10, 11, 9, 10.5, 9.5, 10.2, 9.8, 10.1];
    const a = medianInterval(xs)!;
    expect(a.estimate).toBeCloseTo(10.05, 10);
    expect(a.low!).toBeLessThanOrEqual(a.estimate);
    expect(a.high!).toBeGreaterThanOrEqual(a.estimate);
    expect(medianInterval(xs)).toEqual(a);
    const more = medianInterval([...xs, ...xs, ...xs, ...xs])!;
    expect(more.high! - more.low!).toBeLessThan(a.high! - a.low!);
  });

  it('gives no interval below MIN_WINDOWS windows, and nothing for no finite value', () => {
    expect(medianInterval([1, 2, 3].slice(0, MIN_WINDOWS - 1))).toEqual({ estimate: 2, low: null, high: null, n: 3 });
    expect(medianInterval([NaN, Infinity])).toBeNull();
  });

  it('constant windows give a zero-width interval', () => {
    expect(medianInterval([5, 5, 5, 5, 5, 5])).toEqual({ estimate: 5, low: 5, high: 5, n: 6 });
  });

  it('is the k-th smallest and k-th largest window, k from the binomial law (Conover §3.2)', () => {
    // Textbook ranks for a >= 95% interval of a median: n=6..8 -> [min, max], n=9,10 -> 2nd, n=12 -> 3rd, n=20 -> 6th.
    expect([5, 6, 7, 8, 9, 10, 12, 20].map(medianRank)).toEqual([null, 1, 1, 1, 2, 2, 3, 6]);
    expect(MIN_WINDOWS).toBe(6);
    const xs = [7, 3, 9, 1, 5, 8, 2, 6, 4, 10];
    expect(medianInterval(xs)).toEqual({ estimate: 5.5, low: 2, high: 9, n: 10 });
    expect(medianInterval([4, 1, 3, 2, 6, 5])).toEqual({ estimate: 3.5, low: 1, high: 6, n: 6 });
  });

  it('covers the true median in >= 95% of repeated experiments, also for few skewed windows', () => {
    // Windows drawn from an exponential law (skewed, like timings with interruptions), median ln 2.
    const rng = xoroshiro128plus(42);
    const draw = () => -Math.log(1 - uniformInt(rng, 0, 2 ** 30 - 1) / 2 ** 30);
    for (const n of [6, 9, 24]) {
      let covered = 0;
      const trials = 4000;
      for (let t = 0; t < trials; t++) {
        const iv = medianInterval(Array.from({ length: n }, draw))!;
        if (iv.low! <= Math.LN2 && Math.LN2 <= iv.high!) covered++;
      }
      // Exact coverage is >= 95.86% for these n; 4,000 trials have a standard error of ~0.3 pp.
      expect(covered / trials).toBeGreaterThan(0.945);
    }
  });
});

describe('ratios', () => {
  it('paired windows cancel a drift that hits both backends alike', () => {
    // The machine slows down 2x over the run; backend A is always 1.5x backend B in the same round.
    const pairs = Array.from({ length: 12 }, (_, i) => {
      const speed = 1 - i / 24;
      return [1500 * speed, 1000 * speed] as [number, number];
    });
    const paired = pairedRatioInterval(pairs)!;
    expect(paired.estimate).toBeCloseTo(1.5, 10);
    expect(paired.high! - paired.low!).toBeLessThan(1e-9);
    // Unpaired, the same windows give a wide interval that does not tell the ratio as well.
    const unpaired = independentRatioInterval(pairs.map((p) => p[0]), pairs.map((p) => p[1]))!;
    expect(unpaired.high! - unpaired.low!).toBeGreaterThan(0.1);
    expect(ratioVerdict(paired)).toBe('higher');
  });

  it('verdicts and overlap', () => {
    expect(ratioVerdict({ estimate: 1.02, low: 0.97, high: 1.06, n: 8 })).toBe('not distinguishable');
    expect(ratioVerdict({ estimate: 0.8, low: 0.75, high: 0.85, n: 8 })).toBe('lower');
    expect(ratioVerdict({ estimate: 1.2, low: null, high: null, n: 2 })).toBe('too few windows');
    expect(overlaps({ estimate: 1, low: 0.9, high: 1.1, n: 5 }, { estimate: 1.2, low: 1.05, high: 1.3, n: 5 })).toBe(true);
    expect(overlaps({ estimate: 1, low: 0.9, high: 1.0, n: 5 }, { estimate: 1.2, low: 1.05, high: 1.3, n: 5 })).toBe(false);
    expect(formatRatio({ estimate: 1.234, low: 1.2, high: 1.3, n: 6 })).toBe('1.23× [1.20–1.30]');
  });
});

describe('rotate', () => {
  it('starts round k with the k-th backend and keeps every backend once', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 5)).toEqual(['c', 'a', 'b']);
    expect(rotate([], 3)).toEqual([]);
  });
});

describe('computeComparisons', () => {
  const cell = (backend: string, kind: 'backend' | 'reference', train: TrainWindow[], infer: InferenceWindow[]) =>
    ({ backend, kind, status: 'ok', training: { windows: train }, inference: { windows: infer } }) as unknown as BackendResult;
  const tw = (round: number, ips: number): TrainWindow => ({ round, steps: 10, images: ips, seconds: 1 });
  const iw = (round: number, batchSize: number, ips: number): InferenceWindow => ({ round, batchSize, p50Ms: (1000 * batchSize) / ips, imagesPerSecond: ips, samples: 10 });

  it('pairs windows of the same round, leaves the warm-up window out, and rates vs the reference', () => {
    // Round 0 is warm-up (not used); the backend skips round 3 (no pair there).
    const a = cell('a', 'backend', [tw(0, 1), tw(1, 200), tw(2, 220), tw(4, 180), tw(5, 210), tw(6, 200), tw(7, 190)], [0, 1, 2, 3, 4, 5].map((r) => iw(r, 256, 3000 + r)));
    const ref = cell('pytorch', 'reference', [0, 1, 2, 3, 4, 5, 6, 7].map((r) => tw(r, 100 + (r === 0 ? -99 : 0))), [0, 1, 2, 3, 4, 5].map((r) => iw(r, 256, 1000 + r / 3)));
    expect(trainingWindowRates(a.training!.windows!).map((w) => w.round)).toEqual([1, 2, 4, 5, 6, 7]);
    const cmp = computeComparisons({ results: [a, ref] })!;
    expect(cmp.reference).toBe('pytorch');
    const train = cmp.rows.find((r) => r.metric === 'train')!;
    expect(train.ratio!.n).toBe(6);
    expect(train.ratio!.estimate).toBeCloseTo(2.0, 10);
    expect([train.ratio!.low, train.ratio!.high]).toEqual([1.8, 2.2]); // [min, max] of 6 per-round ratios
    expect(train.verdict).toBe('higher');
    const b256 = cmp.rows.find((r) => r.metric === 'infer-b256')!;
    expect(b256.ratio!.estimate).toBeGreaterThan(2.9);
  });

  it('is null without a reference cell', () => {
    expect(computeComparisons({ results: [cell('a', 'backend', [], [])] })).toBeNull();
  });
});
