/** Inference latency (batch 1) and throughput (batch 256) of a session, measured with tinybench. */
import { Bench } from 'tinybench';
import type { BackendSession } from '@lenet/core';
import type { InferenceResult, LatencySummary } from './types.js';

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
 * Runs two tinybench tasks on `session`: predict(x, 1) and predict(x, 256), each for about
 * seconds/2 after a short warm-up. `x` must hold at least 256 images.
 */
export async function measureInference(session: BackendSession, x: Float32Array, pixels: number, seconds: number): Promise<InferenceResult> {
  const sizes = [1, 256];
  const perTaskMs = Math.max(100, (seconds * 1000) / sizes.length);
  const bench = new Bench({
    time: perTaskMs,
    warmupTime: Math.min(300, perTaskMs / 4),
    warmupIterations: 3,
    iterations: 5,
    retainSamples: true,
  });
  for (const n of sizes) {
    const input = x.subarray(0, n * pixels);
    bench.add(`predict b${n}`, async () => {
      await session.predict(input, n);
    });
  }
  await bench.run();
  const summaries = bench.tasks.map((task, i): LatencySummary => {
    const r = task.result;
    if (r.state !== 'completed') {
      const err = (r as { error?: unknown }).error;
      throw new Error(`tinybench task ${task.name} did not complete (${r.state})${err instanceof Error ? `: ${err.message}` : ''}`);
    }
    const lat = r.latency;
    const n = sizes[i]!;
    return {
      batchSize: n,
      p50Ms: lat.p50,
      p99Ms: lat.p99,
      meanMs: lat.mean,
      minMs: lat.min,
      maxMs: lat.max,
      madMs: lat.mad,
      samplesCount: lat.samplesCount,
      imagesPerSecond: lat.p50 > 0 ? n / (lat.p50 / 1000) : 0,
      samplesMs: thin(lat.samples ?? []).map(roundMs),
    };
  });
  return { tool: 'tinybench', batch1: summaries[0]!, batch256: summaries[1]! };
}
