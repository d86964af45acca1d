/**
 * From measurement windows to reported figures: per-cell medians with 95% intervals, and ratios
 * to the reference cell from paired windows (same round). Pure functions of the report's data, so
 * `report` and `compare` recompute exactly what `run` wrote.
 */
import { medianInterval, pairedRatioInterval, ratioVerdict } from '../stats/intervals.js';
import { summarizeSamples } from './inference.js';
import type { BackendResult, BatchSummary, Comparison, InferenceResult, InferenceWindow, Report, TrainWindow } from './types.js';

/** img/s of each training window after the first (the first carries JIT/graph warm-up). */
export function trainingWindowRates(windows: readonly TrainWindow[]): { round: number; ips: number }[] {
  return windows.slice(1).filter((w) => w.seconds > 0 && w.images > 0).map((w) => ({ round: w.round, ips: w.images / w.seconds }));
}

export function trainingThroughput(windows: readonly TrainWindow[]) {
  return medianInterval(trainingWindowRates(windows).map((r) => r.ips));
}

/** Per batch size: median window p50 and img/s with intervals. */
export function batchSummaries(windows: readonly InferenceWindow[], pooledCounts: Map<number, number>): BatchSummary[] {
  const sizes = [...new Set(windows.map((w) => w.batchSize))].sort((a, b) => a - b);
  return sizes.map((batchSize) => {
    const ws = windows.filter((w) => w.batchSize === batchSize);
    return {
      batchSize,
      p50Ms: medianInterval(ws.map((w) => w.p50Ms))!,
      imagesPerSecond: medianInterval(ws.map((w) => w.imagesPerSecond))!,
      p99Ms: NaN,
      samplesCount: pooledCounts.get(batchSize) ?? ws.reduce((a, w) => a + w.samples, 0),
    };
  });
}

/** The inference result of a cell from its windows and the pooled raw samples per batch size. */
export function inferenceResult(windows: InferenceWindow[], samples: Map<number, number[]>, tool: string): InferenceResult {
  const counts = new Map<number, number>();
  for (const w of windows) counts.set(w.batchSize, (counts.get(w.batchSize) ?? 0) + w.samples);
  const pooled = (bs: number) => summarizeSamples(bs, samples.get(bs) ?? [], counts.get(bs) ?? 0);
  const batches = batchSummaries(windows, counts).map((b) => ({ ...b, p99Ms: pooled(b.batchSize).p99Ms }));
  const b1 = pooled(1);
  const b256 = pooled(256);
  // The headline figures are the medians over windows (robust to one disturbed window).
  const m1 = batches.find((b) => b.batchSize === 1);
  const m256 = batches.find((b) => b.batchSize === 256);
  if (m1) Object.assign(b1, { p50Ms: m1.p50Ms.estimate, imagesPerSecond: m1.imagesPerSecond.estimate });
  if (m256) Object.assign(b256, { p50Ms: m256.p50Ms.estimate, imagesPerSecond: m256.imagesPerSecond.estimate });
  return { tool, batch1: b1, batch256: b256, windows, batches };
}

/** The reference cell: PyTorch when it ran. */
export function referenceCell(report: Pick<Report, 'results'>): BackendResult | null {
  return report.results.find((r) => r.kind === 'reference' && r.status === 'ok') ?? null;
}

/** Pairs of (a, b) values from windows of the same round. */
function pairByRound<T extends { round: number }>(a: T[], b: T[], value: (x: T) => number): [number, number][] {
  const byRound = new Map(b.map((x) => [x.round, x]));
  const out: [number, number][] = [];
  for (const x of a) {
    const y = byRound.get(x.round);
    if (y) out.push([value(x), value(y)]);
  }
  return out;
}

/** Ratios of every cell to the reference from paired windows: training, b1 latency, b256 throughput (and other batch sizes). */
export function computeComparisons(report: Pick<Report, 'results'>): Report['comparisons'] {
  const first = referenceCell(report);
  if (!first) return null;
  const rows: Comparison[] = [];
  for (const cell of report.results) {
    if (cell.kind === 'reference' || cell.status !== 'ok') continue;
    // Thread-scaling runs: compare "x@2t" with "pytorch@2t".
    const suffix = /@\d+t$/.exec(cell.backend)?.[0];
    const ref = (suffix && report.results.find((r) => r.kind === 'reference' && r.status === 'ok' && r.backend.endsWith(suffix))) || first;
    const refTrain = trainingWindowRates(ref.training?.windows ?? []);
    const refInfer = ref.inference?.windows ?? [];
    if (cell.training?.windows && refTrain.length) {
      const ratio = pairedRatioInterval(pairByRound(trainingWindowRates(cell.training.windows), refTrain, (w) => w.ips));
      rows.push({ backend: cell.backend, metric: 'train', ratio, verdict: ratioVerdict(ratio) });
    }
    const windows = cell.inference?.windows ?? [];
    for (const bs of [...new Set(windows.map((w) => w.batchSize))].sort((x, y) => x - y)) {
      const mine = windows.filter((w) => w.batchSize === bs);
      const theirs = refInfer.filter((w) => w.batchSize === bs);
      if (!theirs.length) continue;
      // Throughput ratio (> 1: faster than the reference); for batch 1 the same as p50 latency ratio inverted.
      const ratio = pairedRatioInterval(pairByRound(mine, theirs, (w) => w.imagesPerSecond));
      rows.push({ backend: cell.backend, metric: bs === 1 ? 'infer-b1' : `infer-b${bs}`, ratio, verdict: ratioVerdict(ratio) });
    }
  }
  return { reference: first.backend.replace(/@\d+t$/, ''), rows };
}

export function comparisonFor(report: Report, backend: string, metric: string): Comparison | null {
  return report.comparisons?.rows.find((r) => r.backend === backend && r.metric === metric) ?? null;
}
