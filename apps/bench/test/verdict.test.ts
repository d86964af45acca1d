// The verdict (src/report/verdict.ts) on constructed reports: its sentences must follow from the
// intervals (ties, clear leaders, budget-limited rows), and its terminal form must fit the width.
import { getPreset } from '@lenet/model';
import { describe, expect, it } from 'vitest';
import { buildVerdict, fitVerdictTable, terminalVerdict, verdictColumns } from '../src/report/verdict.js';
import type { BackendResult, Interval, Report } from '../src/run/types.js';

const iv = (estimate: number, halfWidth: number): Interval => ({ estimate, low: estimate - halfWidth, high: estimate + halfWidth, n: 8 });

interface RowSpec {
  backend: string;
  train?: Interval;
  b1?: Interval;
  b256?: Interval;
  accuracy?: number;
  /** Training cut by the time budget after this many seconds (and `images` images). */
  budgetSeconds?: number;
  images?: number;
  timeToTarget?: number;
  maxAbsLogitDiff?: number;
  kind?: 'backend' | 'reference';
  error?: string;
}

const TRAIN_COUNT = 60_000;

function row(s: RowSpec): BackendResult {
  const accuracy = s.accuracy ?? 0.71;
  const images = s.images ?? TRAIN_COUNT * 3;
  const seconds = s.budgetSeconds ?? 30;
  const batch = (n: number, lat: Interval, ips: Interval) => ({ batchSize: n, p50Ms: lat, imagesPerSecond: ips, p99Ms: lat.estimate * 2, samplesCount: 100 });
  const b1 = s.b1 ?? iv(0.1, 0.01);
  const b256 = s.b256 ?? iv(20_000, 500);
  return {
    backend: s.backend,
    kind: s.kind ?? 'backend',
    status: s.error ? 'error' : 'ok',
    package: null,
    description: null,
    canTrain: true,
    runtime: null,
    versions: {},
    threads: 2,
    startedAt: '2026-01-01T00:00:00Z',
    wallSeconds: 40,
    training: s.error
      ? null
      : ({
          epochs: [],
          stoppedBy: s.budgetSeconds !== undefined ? 'budget' : s.timeToTarget !== undefined ? 'target' : null,
          budget: { maxSeconds: null, maxStepsPerEpoch: null, reason: '' },
          totalSteps: images / 256,
          trainSeconds: seconds,
          imagesPerSecond: s.train?.estimate ?? 1000,
          epochSeconds: 10,
          recipeSeconds: 100,
          projected: false,
          timeToTarget: s.timeToTarget !== undefined ? { accuracy: 0.7, epoch: 3, seconds: s.timeToTarget } : null,
          lossTrace: [],
          probe: null,
          weightsFile: `weights/${s.backend}.json`,
          throughput: s.train ?? iv(1000, 50),
          curve: [{ epoch: images / TRAIN_COUNT, steps: images / 256, images, seconds, accuracy, loss: 1 }],
        } as BackendResult['training']),
    trainingSkipped: null,
    evaluation: s.error ? null : ({ count: 10_000, accuracy, loss: 1, seconds: 1 } as BackendResult['evaluation']),
    inference: s.error ? null : ({ tool: 'x', batch1: {}, batch256: {}, batches: [batch(1, b1, iv(1000 / b1.estimate, 1)), batch(256, iv(256_000 / b256.estimate, 0.1), b256)] } as unknown as BackendResult['inference']),
    peakRssMB: 200,
    agreement: s.error ? null : { images: 100, maxAbsLogitDiff: s.maxAbsLogitDiff ?? 2e-7, meanAbsLogitDiff: 1e-8, identicalPredictions: 1, identicalCount: 100 },
    error: s.error ? { phase: 'session', message: s.error } : null,
  };
}

function report(rows: RowSpec[], comparisons: { backend: string; ratio: Interval }[] = []): Report {
  return {
    config: { modelSpec: getPreset('lenet5'), trainCount: TRAIN_COUNT, batchSize: 256, targetAccuracy: 0.7 },
    results: rows.map(row),
    comparisons: comparisons.length ? { reference: 'pytorch', rows: comparisons.map((c) => ({ ...c, metric: 'train', verdict: 'higher' })) } : null,
  } as unknown as Report;
}

const sentence = (r: Report, start: string) => buildVerdict(r).sentences.find((s) => s.startsWith(start)) ?? '';

describe('verdict sentences follow from the intervals', () => {
  it('a clear leader is named alone and "ahead beyond the intervals"', () => {
    const r = report([
      { backend: 'slow', train: iv(500, 20) },
      { backend: 'fast', train: iv(4000, 100) },
      { backend: 'mid', train: iv(1500, 50) },
    ]);
    const s = sentence(r, 'Fastest training');
    expect(s).toMatch(/^Fastest training: fast 4,000 img\/s, ahead of mid 1,500 img\/s beyond the 95% intervals; slowest slow \(8\.0× behind\)\.$/);
  });

  it('overlapping intervals are a tie: every tied backend is named, "not distinguishable"', () => {
    const r = report([
      { backend: 'a', b1: iv(0.080, 0.01) },
      { backend: 'b', b1: iv(0.085, 0.01) },
      { backend: 'c', b1: iv(0.45, 0.02) },
    ]);
    const s = sentence(r, 'Lowest batch-1 latency');
    expect(s).toContain('a 0.080 ms and b 0.085 ms, not distinguishable');
    expect(s).toContain('slowest c');
    expect(s).not.toMatch(/ahead of/);
  });

  it('budget-limited rows at chance are "too little to compare", with the reason and "10% is chance"', () => {
    const r = report([
      { backend: 'quick', timeToTarget: 25, accuracy: 0.72 },
      { backend: 'cut', budgetSeconds: 20, images: 7_200, accuracy: 0.1 },
    ]);
    const v = buildVerdict(r);
    const cut = v.rows.find((x) => x.backend === 'cut')!;
    expect(cut.comparable).toBe(false);
    expect(cut.chance?.kind).toBe('budget');
    const s = sentence(r, 'Trained too little');
    expect(s).toContain('cut (budget-limited after 20.0 s, 0.12 epochs)');
    expect(s).toContain("it is still on d2l's sigmoid-LeNet plateau");
    expect(s).toContain('at chance (10% for 10 classes)');
    expect(s).not.toContain('quick');
    expect(sentence(r, 'Reached the 70% target')).toBe('Reached the 70% target: quick in 25.0 s.');
    // The table cell says it too, where the accuracy is.
    const acc = verdictColumns(v).find((c) => c.header === 'accuracy')!;
    expect(acc.cells[1]).toBe('10.00% — not comparable: trained 20.0 s (0.12 epochs), still at the d2l plateau (= chance)');
  });

  it('a backend that disagrees with the reference is not ranked, and a failed one is named', () => {
    const r = report([
      { backend: 'wrong', train: iv(9000, 100), maxAbsLogitDiff: 0.5 },
      { backend: 'right', train: iv(2000, 100) },
      { backend: 'broken', error: 'no such runtime' },
    ]);
    expect(sentence(r, 'Fastest training')).toMatch(/^Fastest training: right 2,000 img\/s\.$/);
    const last = buildVerdict(r).sentences.at(-1)!;
    expect(last).toContain('wrong disagrees with the float64 reference');
    expect(last).toContain('broken failed');
  });

  it('3 to 6 sentences, and the ratio to the reference only with a reference', () => {
    const withRef = report([{ backend: 'x', train: iv(1200, 30) }, { backend: 'pytorch', kind: 'reference', train: iv(1000, 30) }], [{ backend: 'x', ratio: iv(1.2, 0.05) }]);
    const v = buildVerdict(withRef);
    expect(v.sentences.length).toBeGreaterThanOrEqual(3);
    expect(v.sentences.length).toBeLessThanOrEqual(6);
    expect(sentence(withRef, 'Fastest training')).toContain('x 1,200 img/s (1.20× [1.15–1.25] pytorch)');
    expect(verdictColumns(v).map((c) => c.header)).toContain('×pytorch [95% CI]');
    const noRef = buildVerdict(report([{ backend: 'x' }, { backend: 'y' }]));
    expect(verdictColumns(noRef).some((c) => c.header.startsWith('×'))).toBe(false);
  });

  it('cold start (time to the first prediction) is a column only when a row measured it', () => {
    const r = report([{ backend: 'x' }, { backend: 'y' }]);
    expect(verdictColumns(buildVerdict(r)).some((c) => c.header.startsWith('cold start'))).toBe(false);
    r.results[1]!.coldStart = { processes: 6, importMs: iv(100, 5), sessionMs: iv(50, 5), firstPredictMs: iv(2, 0.5), firstStepMs: null, toFirstPredictionMs: iv(152, 8), samples: [] };
    const col = verdictColumns(buildVerdict(r)).find((c) => c.header.startsWith('cold start'))!;
    expect(col.header).toBe('cold start ms [95% CI]');
    expect(col.cells).toEqual(['–', '152 [144–160]']);
  });

  it('"[95% CI]" heads only columns that have an interval', () => {
    const point = (v: number): Interval => ({ estimate: v, low: null, high: null, n: 1 });
    const cols = verdictColumns(buildVerdict(report([{ backend: 'x', train: point(1000), b1: point(0.1), b256: point(9000) }])));
    expect(cols.filter((c) => c.header.includes('[95% CI]'))).toEqual([]);
  });
});

describe('the terminal verdict fits the width', () => {
  const r = report([
    { backend: 'plain', train: iv(1080, 40), timeToTarget: 30 },
    { backend: 'plain-js', train: iv(565, 20), budgetSeconds: 20, images: 7_200, accuracy: 0.1 },
    { backend: 'ort-node', train: iv(4501, 90), timeToTarget: 12 },
    { backend: 'tfjs-wasm', train: iv(900, 300), budgetSeconds: 20, images: 30_000, accuracy: 0.31 },
  ]);
  it.each([80, 100, 140])('%i columns: no line longer, every row present', (columns) => {
    const text = terminalVerdict(r, columns);
    for (const line of text.split('\n')) expect([...line].length, line).toBeLessThanOrEqual(columns);
    for (const b of ['plain', 'plain-js', 'ort-node', 'tfjs-wasm']) expect(text).toMatch(new RegExp(`^${b} `, 'm'));
  });
  it('wide terminals get the intervals, narrow ones the compact cells', () => {
    expect(fitVerdictTable(buildVerdict(r), 200)).toContain('[95% CI]');
    expect(fitVerdictTable(buildVerdict(r), 80)).not.toContain('[95% CI]');
    expect(fitVerdictTable(buildVerdict(r), 80)).toMatch(/10\.0% chance/);
  });
});
