/**
 * The JSON contract between the benchmark page (@lenet/web, apps/web) and the harness that drives
 * it (`lenet-bench browser`, apps/bench): what the page's `window.lenetBench` API takes and
 * returns. Everything here is plain JSON so it crosses postMessage and playwright's
 * page.evaluate. Both apps import it from here (apps do not import each other); the harness
 * checks what arrives with checkBrowserRun / checkBrowserTraining, since it comes from another
 * program.
 *
 * @lenet/browser-protocol, a private workspace package (not published): the page<->CLI messages
 * belong to the two apps, not to @lenet/core, which users install. Types, defaults and checks;
 * type-only imports of @lenet/core, so no runtime dependency, safe in browsers.
 */
import type { EpochMetrics, StepProgress } from '@lenet/core';

export type BackendFamily = 'ort-web' | 'tfjs' | 'plain' | 'jax-js';
const FAMILIES: readonly BackendFamily[] = ['ort-web', 'tfjs', 'plain', 'jax-js'];

/** Page backend ids start with their family ("ort-web-wasm", "tfjs-layers-webgl", "plain-js", "jax-js-webgpu"); null if none. */
export function familyOfPageBackend(id: string): BackendFamily | null {
  return FAMILIES.find((f) => id === f || id.startsWith(`${f}-`)) ?? null;
}

/** Per-call latency statistics (page rows and report.json's batch1/batch256 alike). */
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
  /** Raw per-call latencies in ms, sorted ascending, evenly thinned to at most 2,000 from samplesCount. */
  samplesMs: number[];
}

/** Accuracy and loss on a test split (page rows and report.json rows alike). */
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

/** What every page row says about the backend it ran (inference and training rows alike). */
export interface PageBackendRow {
  /** e.g. "ort-web-wasm", "tfjs-webgl", "plain-wasm". */
  id: string;
  family: BackendFamily;
  /** The @lenet backend it runs ("ort-web", "tfjs-wasm", "plain", ...). */
  backend: string;
  package: string;
  where: 'main thread' | 'web worker';
  /** ok; unavailable: this browser lacks it or it cannot do the job (not a failure); error: it failed in `phase`. */
  status: 'ok' | 'unavailable' | 'error';
  /** Why unavailable, or the error message. */
  reason: string | null;
  phase: string | null;
  description: string;
  runtime: string | null;
  versions: Record<string, string>;
  threads: number | null;
  startedAt: string;
  wallSeconds: number;
}

export interface BrowserResult extends PageBackendRow {
  /** GPU backends: the adapter / renderer the kernels ran on (BackendInfo.adapter). */
  adapter?: string | null;
  /** GPU backends: true on a software fallback (SwiftShader etc.): timings not representative. */
  softwareFallback?: boolean | null;
  evaluation: BrowserEvaluation | null;
  inference: BrowserInference | null;
  /**
   * Logits of the first `agreementImages` of stratifiedSubset(test, agreementImages, 0), the
   * subset `lenet-bench run` compares with the float64 reference; null when not asked for.
   */
  agreementLogits: number[] | null;
  /** Cold start (RunOptions.coldStarts): one sample per fresh document, in order; absent when not asked for. */
  coldStartSamples?: PageColdStartSample[];
  /** Why the cold start could not be measured (the first failed sample), else null. */
  coldStartError?: string | null;
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
  /**
   * GPU backends whose adapter is a software fallback (SwiftShader without a GPU) come back
   * "unavailable" instead of being timed: their timings say nothing about GPUs and a WebGPU one
   * takes minutes. Default false (run what is asked).
   */
  skipSoftwareGpu?: boolean;
  /** Cold-start samples per backend, each in a fresh document (see PageColdStartSample); default 0. */
  coldStarts?: number;
}

// Cold start in the page (RunOptions.coldStarts), the browser twin of `lenet-bench run
// --cold-starts`: same phases and the same sample shape as apps/bench's ColdStartSample.
/**
 * One cold start of a page backend, in a fresh document (a new iframe of cold-start.html: a new
 * realm, so modules, the runtime, its wasm and GPU context are instantiated afresh), each phase
 * in ms, timed inside that document, in order: import = dynamic import() of the backend package
 * + available() (which loads the runtime); session = createSession; firstPredict = the first
 * batch-1 predict; firstStep = the first training step (null for inference-only backends).
 */
export interface PageColdStartSample {
  importMs: number;
  sessionMs: number;
  firstPredictMs: number;
  firstStepMs: number | null;
  /** When each phase ended, in ms since the job reached the fresh document. */
  endsMs: { import: number; session: number; firstPredict: number; firstStep: number | null };
}

/** The most cold-start samples one run() takes per backend (each is a fresh document). */
export const MAX_PAGE_COLD_STARTS = 30;

/** The reason of a GPU row skipped by skipSoftwareGpu. */
export function softwareGpuSkipReason(adapter: string): string {
  return `software fallback adapter (${adapter}): skipped, its timings would not be representative; ask for it by name to time it anyway`;
}

// In-page training: what is asked (TrainRequest), what streams out while it runs (TrainEvent)
// and what comes back (BrowserTraining).
export interface TrainRequest {
  /** Page backend id (see backends.ts); it must be able to train. */
  backend: string;
  /** Model preset (lenet5 = d2l 7.6, lenet5-modern = ReLU + max-pool). */
  model: string;
  /** Seed of the initial weights and of the batch order (as `lenet-bench train --seed`). */
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** Stratified subset (seed 0) of the train split, as `lenet-bench train --limit`; null = all 60,000. */
  trainLimit: number | null;
  /** Stratified subset (seed 0) of the test split evaluated during training; null = all 10,000. */
  testLimit: number | null;
  /** Train at most this many steps per epoch (a short budget); null = whole epochs. */
  maxStepsPerEpoch: number | null;
  /** Also evaluate every this many steps (the curve within an epoch); null = once per epoch. */
  evalEverySteps: number | null;
  /** Threads of the backend session; null = the backend's default. */
  threads: number | null;
  /**
   * Train images (stratified, seed 0) whose accuracy is the "train acc" curve, evaluated at
   * each curve point outside the training time (trainStep returns only the loss); 0 = no curve.
   */
  trainAccImages: number;
}

export const TRAIN_REQUEST_DEFAULTS: Omit<TrainRequest, 'backend'> = {
  model: 'lenet5',
  seed: 0,
  epochs: 10,
  batchSize: 128,
  lr: 0.1,
  trainLimit: null,
  testLimit: null,
  maxStepsPerEpoch: null,
  evalEverySteps: null,
  threads: null,
  trainAccImages: 1000,
};

/** One point of d2l's animated curve; x = epochs done (fractional within an epoch). */
export interface TrainCurvePoint {
  x: number;
  epoch: number;
  totalSteps: number;
  /** Mean loss of this epoch's steps so far (each before its update), as d2l plots it. */
  trainLoss: number;
  /** Accuracy on the trainAccImages train subset, null when not measured. */
  trainAccuracy: number | null;
  testAccuracy: number;
  testLoss: number;
  endOfEpoch: boolean;
}

export type TrainEvent =
  | { type: 'status'; text: string }
  | { type: 'step'; progress: StepProgress; totalSteps: number; plannedSteps: number }
  | { type: 'point'; point: TrainCurvePoint }
  | { type: 'epoch'; metrics: EpochMetrics };

export interface BrowserTraining extends PageBackendRow {
  request: TrainRequest;
  dataset: string;
  trainCount: number;
  testCount: number;
  /** Loss of every step, in order (each computed before its update). */
  stepLosses: number[];
  epochs: EpochMetrics[];
  curve: TrainCurvePoint[];
  totalSteps: number;
  /** Training seconds (batch preparation + trainStep; evaluations excluded). */
  trainSeconds: number;
  imagesPerSecond: number;
  /** signal: the stop button (or stopTraining()); budget: maxStepsPerEpoch cut the epochs. */
  stoppedBy: 'signal' | 'budget' | null;
  /** The final weights on the test subset (also after a stop mid-epoch). */
  finalEvaluation: { count: number; accuracy: number; loss: number; confusion: number[][] } | null;
  /** Batches per full epoch of the train subset (for projecting a whole epoch). */
  batchesPerEpoch: number;
}

/** The page API the harness drives (`window.lenetBench`). */
export interface LenetBenchPage {
  /** Resolves when the model and data are loaded (rejects with the reason otherwise). */
  ready: Promise<void>;
  backendIds: string[];
  /** Page backends that can train (their backend has trainStep). */
  trainableIds: string[];
  run(options: RunOptions): Promise<BrowserRun>;
  lastRun(): BrowserRun | null;
  train(request: Partial<TrainRequest> & { backend: string }): Promise<BrowserTraining>;
  stopTraining(): boolean;
  lastTraining(): BrowserTraining | null;
}

/** Thrown by the checks below: the page answered something the harness cannot use. */
export class BrowserProtocolError extends Error {
  override name = 'BrowserProtocolError';
}

const STATUSES = ['ok', 'unavailable', 'error'];

/** The page's answer to run() is data from another program: checks the parts a report relies on. */
export function checkBrowserRun(value: unknown): BrowserRun {
  const fail = (what: string): never => {
    throw new BrowserProtocolError(`the page returned an unexpected result: ${what}`);
  };
  if (!value || typeof value !== 'object') fail('not an object');
  const run = value as BrowserRun;
  if (!Array.isArray(run.results)) fail('no results array');
  for (const r of run.results) {
    if (typeof r.id !== 'string' || !STATUSES.includes(r.status)) fail(`bad row ${JSON.stringify(r).slice(0, 120)}`);
    if (r.status === 'ok' && (!r.evaluation || !r.inference)) fail(`${r.id} is ok but lacks evaluation/inference`);
    if (r.adapter != null && (typeof r.adapter !== 'string' || r.adapter === '')) fail(`${r.id}: adapter must be a non-empty string`);
    if (r.softwareFallback != null && typeof r.softwareFallback !== 'boolean') fail(`${r.id}: softwareFallback must be a boolean`);
  }
  if (typeof run.testCount !== 'number') fail('no testCount');
  return run;
}

/** The page's answer to train() for backend `id`: checks the parts a report row relies on. */
export function checkBrowserTraining(value: unknown, id: string): BrowserTraining {
  const fail = (what: string): never => {
    throw new BrowserProtocolError(`the page returned an unexpected training result for ${id}: ${what}`);
  };
  if (!value || typeof value !== 'object') fail('not an object');
  const t = value as BrowserTraining;
  if (t.id !== id || !STATUSES.includes(t.status)) fail(`bad id/status ${JSON.stringify({ id: t.id, status: t.status })}`);
  if (t.status === 'ok' && (!Array.isArray(t.stepLosses) || !Array.isArray(t.epochs) || !t.finalEvaluation)) fail('ok but without step losses, epochs or final evaluation');
  return t;
}
