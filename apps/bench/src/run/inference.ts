/** Inference latency (batch 1) and throughput (batch 256) of a session, measured with tinybench. */
import { Bench } from 'tinybench';
import type { BackendSession } from '@lenet/core';
import type { LatencySummary } from './types.js';

export const MAX_RAW_SAMPLES = 2000;

/** At most `max` values, evenly spaced over the array (keeps the first and the order). */
export function thin(values: ArrayLike<number>, max = MAX_RAW_SAMPLES): number[] {
  const n = values.length;
  const out: number[] = [];
  const take = Math.min(n, max);
  for (let i = 0; i < take; i++) out.push(values[Math.floor((i * n) / take)]!);
  return out;
}

/** Rounds to 0.1 µs so raw samples stay readable in JSON. */
export const roundMs = (ms: number) => Math.round(ms * 1e4) / 1e4;

/**
 * Latency percentiles with linear interpolation between order statistics (as tinybench and
 * numpy do); used for samples measured outside tinybench (the PyTorch reference).
 */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/**
 * One measurement window: predict(x, n) with tinybench for about `seconds` after a short warm-up.
 * Returns the window's p50 and its raw per-call samples (ms, thinned to MAX_RAW_SAMPLES).
 */
export async function measureWindow(session: BackendSession, x: Float32Array, n: number, seconds: number): Promise<{ p50Ms: number; samplesMs: number[] }> {
  const ms = Math.max(20, seconds * 1000);
  // Slow backends (one call > the window) still get a warm-up call and two timed calls.
  const bench = new Bench({ time: ms, warmupTime: Math.min(100, ms / 4), warmupIterations: 1, iterations: 2, retainSamples: true });
  bench.add(`predict b${n}`, async () => {
    await session.predict(x, n);
  });
  await bench.run();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') {
    const err = (r as { error?: unknown }).error;
    throw new Error(`tinybench task predict b${n} did not complete (${r.state})${err instanceof Error ? `: ${err.message}` : ''}`);
  }
  return { p50Ms: r.latency.p50, samplesMs: thin(r.latency.samples ?? []).map(roundMs) };
}

/** Latency summary of pooled samples (ms, any order). */
export function summarizeSamples(batchSize: number, samplesMs: readonly number[], samplesCount: number): LatencySummary {
  const s = [...samplesMs].sort((a, b) => a - b);
  const p50 = quantile(s, 0.5);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  const mad = quantile(s.map((v) => Math.abs(v - p50)).sort((a, b) => a - b), 0.5);
  return {
    batchSize,
    p50Ms: p50,
    p99Ms: quantile(s, 0.99),
    meanMs: mean,
    minMs: s[0] ?? NaN,
    maxMs: s[s.length - 1] ?? NaN,
    madMs: mad,
    samplesCount,
    imagesPerSecond: p50 > 0 ? batchSize / (p50 / 1000) : 0,
    samplesMs: thin(s),
  };
}
