// `compare`'s verdicts on constructed pairs of reports: a clear change either way is "higher" /
// "lower" with a ratio interval excluding 1, overlapping intervals are "no significant
// difference", one window per figure gives "no intervals". (run.test.ts runs the command on real
// reports, where the same report twice is within noise of itself.)
import { describe, expect, it } from 'vitest';
import { compareReports } from '../src/report/compare.js';
import type { BackendResult, Report } from '../src/run/types.js';

/** A report with one ok row whose training / b1 / b256 windows are the given values (jittered). */
function reportWith(train: number, b1Ms: number, b256: number, windows = 12): Report {
  const jitter = (k: number) => 1 + ((k * 37) % 11 - 5) / 200; // ±2.5%, deterministic
  const training = {
    imagesPerSecond: train,
    // The first window is warm-up (dropped by trainingWindowRates): windows + 1 of them.
    windows: Array.from({ length: windows + 1 }, (_, k) => ({ round: k, images: 1280, seconds: 1280 / (train * jitter(k)) })),
  };
  const inference = {
    batch1: { p50Ms: b1Ms },
    batch256: { imagesPerSecond: b256 },
    windows: Array.from({ length: windows }, (_, k) => [
      { batchSize: 1, round: k, p50Ms: b1Ms * jitter(k + 3), imagesPerSecond: 1000 / b1Ms, samples: 100 },
      { batchSize: 256, round: k, p50Ms: 256_000 / b256, imagesPerSecond: b256 * jitter(k + 5), samples: 10 },
    ]).flat(),
  };
  const row = { backend: 'plain', status: 'ok', training, inference, evaluation: { accuracy: 0.8 }, agreement: null } as unknown as BackendResult;
  return { results: [row] } as unknown as Report;
}

describe('compare verdicts', () => {
  it('B twice as fast in training and b256, half the b1 latency: higher, higher, lower', () => {
    const [row] = compareReports(reportWith(1000, 0.2, 10_000), reportWith(2000, 0.1, 20_000));
    expect(row!.train.verdict).toBe('higher');
    expect(row!.b256.verdict).toBe('higher');
    expect(row!.b1P50.verdict).toBe('lower');
    expect(row!.train.ratio!.estimate).toBeCloseTo(2, 1);
    expect(row!.train.ratio!.low!).toBeGreaterThan(1);
    expect(row!.b1P50.ratio!.high!).toBeLessThan(1);
  });

  it('B slower: lower training and b256, higher b1 latency', () => {
    const [row] = compareReports(reportWith(2000, 0.1, 20_000), reportWith(1500, 0.15, 12_000));
    expect([row!.train.verdict, row!.b256.verdict, row!.b1P50.verdict]).toEqual(['lower', 'lower', 'higher']);
  });

  it('a 1% change inside ±2.5% window jitter: no significant difference', () => {
    const [row] = compareReports(reportWith(1000, 0.2, 10_000), reportWith(1010, 0.198, 10_100));
    expect([row!.train.verdict, row!.b256.verdict, row!.b1P50.verdict]).toEqual(['no significant difference', 'no significant difference', 'no significant difference']);
  });

  it('a backend in only one report has no verdict', () => {
    const b = reportWith(1000, 0.2, 10_000);
    b.results[0]!.backend = 'ort-node';
    const rows = compareReports(reportWith(1000, 0.2, 10_000), b);
    expect(rows.map((r) => [r.backend, r.train.verdict])).toEqual([['plain', null], ['ort-node', null]]);
  });
});
