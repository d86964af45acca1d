/**
 * What the page measures, in a form that crosses postMessage and page.evaluate (plain JSON).
 * `lenet-bench browser` maps these onto report.json rows (apps/bench/src/browser/).
 */

export type BackendFamily = 'ort-web' | 'tfjs' | 'plain';

/** Per-call latency statistics; the same fields as report.json's `latency`. */
export interface LatencySummary {
  batchSize: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  madMs: number;
  samplesCount: number;
  /** batchSize / p50 in seconds. */
  imagesPerSecond: number;
  /** Raw per-call latencies in ms, sorted, evenly thinned to at most 2,000. */
  samplesMs: number[];
}

export interface BrowserEvaluation {
  count: number;
  accuracy: number;
  loss: number;
  /** confusion[true][pred]. */
  confusion: number[][];
  seconds: number;
}

export interface BrowserInference {
  tool: string;
  batch1: LatencySummary;
  batch256: LatencySummary;
}

export interface BrowserResult {
  /** e.g. "ort-web-wasm", "tfjs-webgl", "plain-wasm". */
  id: string;
  family: BackendFamily;
  /** The @lenet backend it runs ("ort-web", "tfjs-wasm", "plain", ...). */
  backend: string;
  package: string;
  where: 'main thread' | 'web worker';
  /** ok; unavailable: this browser lacks it (not a failure); error: it failed in `phase`. */
  status: 'ok' | 'unavailable' | 'error';
  /** Why unavailable, or the error message. */
  reason: string | null;
  phase: string | null;
  description: string;
  runtime: string | null;
  versions: Record<string, string>;
  threads: number | null;
  /** GPU backends: the adapter / renderer the kernels ran on (BackendInfo.adapter). */
  adapter?: string | null;
  /** GPU backends: true on a software fallback (SwiftShader etc.): timings not representative. */
  softwareFallback?: boolean | null;
  startedAt: string;
  wallSeconds: number;
  evaluation: BrowserEvaluation | null;
  inference: BrowserInference | null;
  /**
   * Logits of the first `agreementImages` of stratifiedSubset(test, agreementImages, 0), the
   * subset `lenet-bench run` compares with the float64 reference; null when not asked for.
   */
  agreementLogits: number[] | null;
}

export interface BrowserRun {
  /** e.g. "Chromium 156.0.8078.108" (full version from userAgentData; the UA string is frozen). */
  browser: string;
  userAgent: string;
  crossOriginIsolated: boolean;
  hardwareConcurrency: number;
  weights: { source: string; model: string; params: number; format: 'safetensors' | 'onnx' | 'seeded-init' };
  dataset: string;
  /** Stratified subset size of the test split (seed 0, as lenet-bench --limit), null = all. */
  limit: number | null;
  testCount: number;
  inferenceSeconds: number;
  startedAt: string;
  finishedAt: string;
  results: BrowserResult[];
}

/** Options of one benchmark run (from the query string or the form). */
export interface RunOptions {
  /** Backend ids to run (unknown ids are an error). */
  backends: string[];
  limit: number | null;
  /** Seconds of timed calls per batch size. */
  inferenceSeconds: number;
  /** Also return the logits of this many test images (agreement check); default none. */
  agreementImages?: number;
}
