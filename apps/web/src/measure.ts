/**
 * The measurement of one backend, shared by the main thread (ort-web, TF.js) and the plain
 * backend's Web Worker: evaluation with @lenet/core's `evaluate` (the same code the CLI runs),
 * then batch-1 latency and batch-256 throughput from a timed loop of `predict` calls.
 */
import type { Backend, BackendSession } from '@lenet/core';
import { evaluate } from '@lenet/core';
import { softwareGpuSkipReason } from '@lenet/browser-protocol';
import type { ImageSplit } from '@lenet/datasets';
import { splitToFloat, stratifiedSubset } from '@lenet/datasets';
import type { ModelSpec, Weights } from '@lenet/model';
import type { BrowserEvaluation, BrowserInference, BrowserResult, LatencySummary } from './types.js';

const MAX_KEPT_SAMPLES = 2000;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Statistics of per-call times (ms) as report.json stores them. */
export function summarizeLatency(samples: number[], batchSize: number): LatencySummary {
  if (samples.length === 0) throw new Error('summarizeLatency: no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const dev = sorted.map((s) => Math.abs(s - p50)).sort((a, b) => a - b);
  const step = sorted.length / MAX_KEPT_SAMPLES;
  const kept = sorted.length <= MAX_KEPT_SAMPLES ? sorted : Array.from({ length: MAX_KEPT_SAMPLES }, (_, i) => sorted[Math.floor(i * step)]!);
  return {
    batchSize,
    p50Ms: p50,
    p99Ms: quantile(sorted, 0.99),
    meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    minMs: sorted[0]!,
    maxMs: sorted[sorted.length - 1]!,
    madMs: quantile(dev, 0.5),
    samplesCount: sorted.length,
    imagesPerSecond: p50 > 0 ? batchSize / (p50 / 1000) : 0,
    samplesMs: kept,
  };
}

/**
 * Times `call` for about `seconds` after a short warm-up (at least 10 timed calls, or 3 when
 * they take longer than 3 x `seconds`).
 * performance.now() has 5 µs resolution in a cross-origin-isolated page (the app sends
 * COOP/COEP), 100 µs otherwise.
 */
export async function timeCalls(call: () => Promise<unknown>, batchSize: number, seconds: number): Promise<LatencySummary> {
  const warmStart = performance.now();
  const warmEnd = warmStart + Math.min(300, seconds * 200);
  let warm = 0;
  // A slow backend (a GPU emulated on the CPU: seconds per batch-256 call) warms up with 2 calls.
  while (warm < 2 || (warm < 3 && performance.now() < warmStart + seconds * 1000) || performance.now() < warmEnd) {
    await call();
    warm++;
  }
  const samples: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  // At least 10 timed calls for a spread; a slow backend stops at 3 once 3x the budget is spent.
  const slowEnd = start + 3 * seconds * 1000;
  while (samples.length < 3 || (samples.length < 10 && performance.now() < slowEnd) || (performance.now() < end && samples.length < 200_000)) {
    const t0 = performance.now();
    await call();
    samples.push(performance.now() - t0);
  }
  return summarizeLatency(samples, batchSize);
}

/** `count` images of the split as float32 (repeating the split when it has fewer). */
function imagesFor(split: ImageSplit, count: number): Float32Array {
  const pixels = split.rows * split.cols;
  const x = new Float32Array(count * pixels);
  for (let filled = 0; filled < count; ) {
    const n = Math.min(split.count, count - filled);
    x.set(splitToFloat(split, 0, n), filled * pixels);
    filled += n;
  }
  return x;
}

/** Logits of stratifiedSubset(split, n, 0), the images `lenet-bench run` checks agreement on. */
export async function agreementLogits(session: BackendSession, split: ImageSplit, images: number): Promise<number[]> {
  const n = Math.min(images, split.count);
  const subset = stratifiedSubset(split, n, 0);
  return Array.from(await session.predict(splitToFloat(subset), n));
}

/** Accuracy, loss and confusion matrix over the split (batches of 1,000), and the time it took. */
export async function evaluateSession(session: BackendSession, split: ImageSplit): Promise<BrowserEvaluation> {
  const t0 = performance.now();
  const e = await evaluate(session, split, { batchSize: 1000 });
  return { ...e, seconds: (performance.now() - t0) / 1000 };
}

/** Batch-1 latency and batch-256 throughput, `inferenceSeconds` of timed calls each. */
export async function timeSession(session: BackendSession, split: ImageSplit, inferenceSeconds: number): Promise<BrowserInference> {
  const x1 = imagesFor(split, 1);
  const x256 = imagesFor(split, 256);
  const batch1 = await timeCalls(() => session.predict(x1, 1), 1, inferenceSeconds);
  const batch256 = await timeCalls(() => session.predict(x256, 256), 256, inferenceSeconds);
  return { tool: `performance.now() loop in the browser (${globalThis.crossOriginIsolated ? '5 µs' : '100 µs'} timer), batch 1 and 256`, batch1, batch256 };
}

export interface BackendRunInput {
  id: string;
  family: BrowserResult['family'];
  package: string;
  where: BrowserResult['where'];
  backend: Backend;
  spec: ModelSpec;
  weights: Weights;
  split: ImageSplit;
  inferenceSeconds: number;
  /** Logits of this many test images for the agreement check (0/undefined: none). */
  agreementImages?: number;
  /** Extra version entries (e.g. the browser's). */
  versions?: Record<string, string>;
  /** RunOptions.skipSoftwareGpu: a GPU backend on a software fallback adapter is "unavailable". */
  skipSoftwareGpu?: boolean;
}

function message(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}

/**
 * Runs one backend: availability (a missing runtime is "unavailable", not an error), info,
 * session, evaluation, timing. Never throws: failures become status "error" with the phase.
 */
export async function runBackend(input: BackendRunInput): Promise<BrowserResult> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const result: BrowserResult = {
    id: input.id,
    family: input.family,
    backend: input.backend.name,
    package: input.package,
    where: input.where,
    status: 'ok',
    reason: null,
    phase: null,
    description: input.backend.description,
    runtime: null,
    versions: { ...(input.versions ?? {}) },
    threads: null,
    startedAt,
    wallSeconds: 0,
    evaluation: null,
    inference: null,
    agreementLogits: null,
  };
  const done = () => {
    result.wallSeconds = (performance.now() - t0) / 1000;
    return result;
  };
  let phase = 'available';
  try {
    const available = await input.backend.available();
    if (available !== true) {
      result.status = 'unavailable';
      result.reason = available;
      return done();
    }
    phase = 'info';
    // Each backend's default threads: all cores for plain (its Web Worker pool, in the worker) and
    // ort-web (numThreads; the page is cross-origin isolated), as in the CLI.
    const info = await input.backend.info({});
    result.runtime = info.runtime;
    Object.assign(result.versions, info.versions);
    result.threads = info.threads ?? 1;
    if (info.adapter !== undefined) {
      result.adapter = info.adapter;
      result.softwareFallback = info.softwareFallback ?? null;
      if (input.skipSoftwareGpu && info.softwareFallback) {
        result.status = 'unavailable';
        result.reason = softwareGpuSkipReason(info.adapter ?? 'unknown');
        return done();
      }
    }
    phase = 'session';
    const session = await input.backend.createSession(input.spec, input.weights, {});
    try {
      if (input.agreementImages) {
        phase = 'agreement';
        result.agreementLogits = await agreementLogits(session, input.split, input.agreementImages);
      }
      phase = 'evaluate';
      result.evaluation = await evaluateSession(session, input.split);
      phase = 'inference';
      result.inference = await timeSession(session, input.split, input.inferenceSeconds);
    } finally {
      await session.dispose();
    }
  } catch (e) {
    result.status = 'error';
    result.phase = phase;
    result.reason = message(e);
  }
  return done();
}
