// Intervals and paired ratios of `lenet-bench run` (src/stats/intervals.ts, src/run/results.ts):
// deterministic (seeded bootstrap), the textbook properties, and the pairing by round.
import { describe, expect, it } from 'vitest';
import { formatRatio, independentRatioInterval, medianInterval, MIN_WINDOWS, overlaps, pairedRatioInterval, ratioVerdict } from '../src/stats/intervals.js';
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
    expect(medianInterval(xs)).toEqual(a); // seeded resampling
    const more = medianInterval([...xs, ...xs, ...xs, ...xs])!;
    expect(more.high! - more.low!).toBeLessThan(a.high! - a.low!);
  });

  it('gives no interval below MIN_WINDOWS windows, and nothing for no finite value', () => {
    expect(medianInterval([1, 2, 3].slice(0, MIN_WINDOWS - 1))).toEqual({ estimate: 2, low: null, high: null, n: 3 });
    expect(medianInterval([NaN, Infinity])).toBeNull();
  });

  it('constant windows give a zero-width interval', () => {
    expect(medianInterval([5, 5, 5, 5, 5])).toEqual({ estimate: 5, low: 5, high: 5, n: 5 });
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
    const a = cell('a', 'backend', [tw(0, 1), tw(1, 200), tw(2, 220), tw(4, 180), tw(5, 210), tw(6, 200)], [0, 1, 2, 3, 4].map((r) => iw(r, 256, 3000 + r)));
    const ref = cell('pytorch', 'reference', [0, 1, 2, 3, 4, 5, 6].map((r) => tw(r, 100 + (r === 0 ? -99 : 0))), [0, 1, 2, 3, 4].map((r) => iw(r, 256, 1000 + r / 3)));
    expect(trainingWindowRates(a.training!.windows!).map((w) => w.round)).toEqual([1, 2, 4, 5, 6]);
    const cmp = computeComparisons({ results: [a, ref] })!;
    expect(cmp.reference).toBe('pytorch');
    const train = cmp.rows.find((r) => r.metric === 'train')!;
    expect(train.ratio!.n).toBe(5);
    expect(train.ratio!.estimate).toBeCloseTo(2.0, 10);
    expect(train.verdict).toBe('higher');
    const b256 = cmp.rows.find((r) => r.metric === 'infer-b256')!;
    expect(b256.ratio!.estimate).toBeGreaterThan(2.9);
  });

  it('is null without a reference cell', () => {
    expect(computeComparisons({ results: [cell('a', 'backend', [], [])] })).toBeNull();
  });
});
