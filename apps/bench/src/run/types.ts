/**
 * Types of `lenet-bench run`: the report (mirrors schema/report.schema.json, which documents every
 * field), the job a child process receives and the messages it sends back.
 */
import type { EpochMetrics, StepProgress } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import type { DatasetName } from '@lenet/datasets';
import type { Interval } from '../stats/intervals.js';
import type { NoiseSample } from './noise.js';

export type { Interval } from '../stats/intervals.js';
export const REPORT_SCHEMA_ID = 'lenet-bench/report';
/** 2: measurement windows and intervals, learning curves, noise samples. Version 1 files are still read. */
export const REPORT_SCHEMA_VERSION = 2;
export const READABLE_SCHEMA_VERSIONS = [1, 2] as const;

export type Profile = 'quick' | 'full' | 'smoke';
export type Phase = 'start' | 'data' | 'session' | 'train' | 'evaluate' | 'agreement' | 'inference';

export interface Environment {
  cpuModel: string;
  cores: number;
  availableParallelism: number;
  totalMemoryMB: number;
  os: { platform: string; release: string; arch: string };
  node: string;
  v8: string;
  loadAverage: number[];
  /** Threads requested with --threads (null: each backend's default). */
  threads: number | null;
  /** Schema 2: the machine's host name (labels rows of merged reports). */
  hostname?: string;
  /** Schema 2 (since issue 27): Node's release line and its end of life (node-runtime.ts). */
  nodeSupport?: { major: number; endOfLife: string | null; pastEndOfLife: boolean | null };
  /** Schema 2 (since issue 27): WebAssembly features as the run's Node children have them. */
  wasm?: { simd: boolean; relaxedSimd: boolean; threads: boolean; childV8Flags: string[] };
  python?: { executable: string; version: string | null; torch: string | null; note: string } | undefined;
}

export interface RunConfig {
  profile: Profile;
  model: string;
  modelSpec: ModelSpec;
  dataset: DatasetName;
  dataSource: { kind: string; dir: string; files: { file: string; sha256: string }[] };
  trainCount: number;
  testCount: number;
  /** Stratified subset size (--limit), null for the full splits. */
  limit: number | null;
  seed: number;
  epochs: number;
  batchSize: number;
  lr: number;
  targetAccuracy: number;
  threads: number | null;
  /** Schema 2: environment variables the PyTorch cell runs with (e.g. OPENBLAS_CORETYPE), null = none. */
  torchEnv?: Record<string, string> | null;
  /** Schema 2: measure the machine peaks (roofline column); false with --no-peaks. */
  peaks?: boolean;
  /** Schema 2: `run --shard i/n` ran only this slice of the cells (the reference runs in every shard). */
  shard?: { index: number; count: number } | null;
  /** Schema 2: --threads with several counts: every backend runs once per count (cells "<backend>@<n>t"). */
  threadCounts?: number[] | null;
  /** Training time budget per backend in seconds (quick), null = none. */
  trainSeconds: number | null;
  /** Steps per epoch cap (--train-steps), null = none. */
  maxStepsPerEpoch: number | null;
  /** full: a backend whose projected recipe time exceeds this is budget-limited. */
  maxProjectedSeconds: number | null;
  /** full: the training budget of such a backend. */
  fallbackTrainSeconds: number | null;
  inferenceSeconds: number;
  agreementImages: number;
  /**
   * Schema 2 (absent in version 1 reports). Training runs in windows of about this many training
   * seconds, the backends taking turns (round-robin, order rotated every round).
   */
  sliceSeconds?: number;
  /** Stop a backend's training once its learning-curve accuracy reaches targetAccuracy. */
  stopAtTarget?: boolean;
  /** With stopAtTarget: not before this many training windows (absent in older reports: no minimum). */
  minTrainWindows?: number;
  /** Learning-curve evaluation every this many steps (null: once per epoch). */
  evalEverySteps?: number | null;
  /** Test images of the learning-curve evaluations (a stratified subset; = testCount for all). */
  evalImages?: number;
  /** Inference: measurement rounds; in each, every backend measures one window per batch size. */
  inferenceRounds?: number;
  /** Inference: seconds of one window (one batch size, one backend). */
  windowSeconds?: number;
  /** Inference batch sizes (always including 1 and 256). */
  batchSizes?: number[];
  /** Cold start: fresh processes per backend cell (0: not measured; absent in older reports). */
  coldStartProcesses?: number;
  /** Cells in run order: backend names, then "pytorch" when the reference runs. */
  backends: string[];
  torch: boolean;
  skipped: { backend: string; reason: string }[];
}

export interface LossPoint {
  /** Images trained on since the start of training. */
  images: number;
  /** Mean loss of the steps in this bucket. */
  loss: number;
  epoch: number;
}

/** One training window: the steps a backend ran in one turn of the round-robin. */
export interface TrainWindow {
  round: number;
  steps: number;
  images: number;
  seconds: number;
}

/** One point of the learning curve (evaluated on config.evalImages test images). */
export interface CurvePoint {
  epoch: number;
  steps: number;
  images: number;
  /** Training seconds before this evaluation (evaluations excluded). */
  seconds: number;
  accuracy: number;
  loss: number;
}

export interface TrainingResult {
  epochs: EpochMetrics[];
  /** budget: cut by the time budget; target: stopped on reaching config.targetAccuracy (stopAtTarget). */
  stoppedBy: 'budget' | 'target' | null;
  budget: { maxSeconds: number | null; maxStepsPerEpoch: number | null; reason: string };
  totalSteps: number;
  trainSeconds: number;
  imagesPerSecond: number;
  /** Time of one full epoch and of the whole recipe (config.epochs), measured or projected. */
  epochSeconds: number;
  recipeSeconds: number;
  /** True when epochSeconds/recipeSeconds are extrapolated from a partial (budget-cut) run. */
  projected: boolean;
  timeToTarget: { accuracy: number; epoch: number; seconds: number } | null;
  lossTrace: LossPoint[];
  /** Throughput probe (full profile): lr = 0 steps timed before training. */
  probe: { steps: number; imagesPerSecond: number } | null;
  /** Final weights, relative to the report folder. */
  weightsFile: string | null;
  /** Schema 2: the training windows in order (the first one includes warm-up and is not used for throughput). */
  windows?: TrainWindow[];
  /** Schema 2: training img/s, median of the windows after the first, with its 95% interval. */
  throughput?: Interval | null;
  /** Schema 2: learning curve (sub-epoch evaluations on the evaluation subset). */
  curve?: CurvePoint[];
}

/**
 * A report's evaluation and latency figures have the same fields as the page's (the browser merge
 * puts the page's into report rows as they are): one definition, in the page protocol.
 */
export type { BrowserEvaluation as EvaluationResult, LatencySummary } from '@lenet/browser-protocol';
import type { BrowserEvaluation as EvaluationResult, LatencySummary } from '@lenet/browser-protocol';

/** One inference window: one batch size, one backend, one round. */
export interface InferenceWindow {
  batchSize: number;
  round: number;
  p50Ms: number;
  imagesPerSecond: number;
  samples: number;
}

/** Per batch size: the windows' medians with 95% intervals. */
export interface BatchSummary {
  batchSize: number;
  /** Median over windows of each window's p50 latency. */
  p50Ms: Interval;
  /** Median over windows of batchSize / window p50. */
  imagesPerSecond: Interval;
  /** p99 of all samples pooled over the windows. */
  p99Ms: number;
  samplesCount: number;
}

export interface InferenceResult {
  tool: string;
  /** Pooled over every window (schema 1: one window). */
  batch1: LatencySummary;
  batch256: LatencySummary;
  /** Schema 2: every window, and per batch size the medians with intervals. */
  windows?: InferenceWindow[];
  batches?: BatchSummary[];
}

export interface AgreementResult {
  images: number;
  /** null when the backend returned non-finite logits. */
  maxAbsLogitDiff: number | null;
  meanAbsLogitDiff: number | null;
  identicalPredictions: number;
  identicalCount: number;
}

export interface CellError {
  phase: string;
  message: string;
}

export interface BackendResult {
  backend: string;
  kind: 'backend' | 'reference';
  status: 'ok' | 'error';
  package: string | null;
  description: string | null;
  canTrain: boolean | null;
  runtime: string | null;
  versions: Record<string, string>;
  threads: number | null;
  startedAt: string;
  wallSeconds: number;
  training: TrainingResult | null;
  /** Why training was not run (inference-only backend), else null. */
  trainingSkipped: string | null;
  evaluation: EvaluationResult | null;
  inference: InferenceResult | null;
  peakRssMB: number | null;
  agreement: AgreementResult | null;
  error: CellError | null;
  /** Schema 2: build facts of the runtime read from the running process (PyTorch: BLAS, oneDNN, CPU capability). */
  build?: Record<string, unknown> | null;
  /** Schema 2, merged reports: the machine this row was measured on. */
  machine?: string;
  /** Merged reports: the source report.json of a row kept side by side with the same backend from another source. */
  source?: string;
  /** GPU backends (browser rows): the adapter / renderer the kernels ran on. */
  adapter?: string;
  /** GPU backends: the adapter is a software rasterizer, so the timings are not representative. */
  softwareFallback?: boolean;
  /** Cold start measured in fresh processes (or fresh pages); absent when not measured. */
  coldStart?: ColdStartResult | null;
}

/** One fresh process's cold start, each phase in milliseconds, timed inside that process. */
export interface ColdStartSample {
  /** import() of the backend package and its runtime. */
  importMs: number;
  /** createSession: wasm compile, graph build, jit set-up. */
  sessionMs: number;
  /** The first batch-1 predict on the new session. */
  firstPredictMs: number;
  /** The first training step (recipe batch size); null for inference-only backends. */
  firstStepMs: number | null;
  /** The fresh process's pid (each sample comes from its own process). */
  pid?: number;
  /**
   * When each phase ended, in ms since that process started (performance.now()), so the phases'
   * order and the time before the first import (Node's own start-up, the parent's command) show.
   */
  endsMs?: { import: number; session: number; firstPredict: number; firstStep: number | null };
}

/**
 * Cold start (the figure TF.js's benchmark page calls "first predict" and ORT's perf test "session
 * creation"): several fresh processes per backend; per phase the median over the processes with
 * its 95% interval (bounds null below 6 processes).
 */
export interface ColdStartResult {
  processes: number;
  importMs: Interval;
  sessionMs: Interval;
  firstPredictMs: Interval;
  firstStepMs: Interval | null;
  /** import + session + first prediction: the time until a user has an answer. */
  toFirstPredictionMs: Interval;
  samples: ColdStartSample[];
}

export interface AgreementInfo {
  /** Relative to the report folder. */
  weightsFile: string;
  /** e.g. "final weights of plain (trained in this run)". */
  source: string;
  images: number;
  referenceSeconds: number;
}

/** One machine peak: GFLOP/s per window, their median with its interval. */
export interface PeakResult {
  /** What was measured, e.g. "onnxruntime-node 1.30.0 MatMul 1024x1024x1024, 2 threads". */
  detail: string | null;
  gflops: Interval | null;
  windows: number[];
  /** Why it could not be measured (null when it was). */
  unavailable: string | null;
}

/** A backend's figure relative to the reference, from paired windows. */
export interface Comparison {
  backend: string;
  metric: 'train' | 'infer-b1' | 'infer-b256' | string;
  /** backend / reference for throughputs; reference / backend latency for 'infer-b1' (so > 1 = faster). */
  ratio: Interval | null;
  verdict: 'higher' | 'lower' | 'not distinguishable' | 'too few windows';
}

export interface Report {
  schema: typeof REPORT_SCHEMA_ID;
  schemaVersion: (typeof READABLE_SCHEMA_VERSIONS)[number];
  tool: { name: string; version: string };
  status: 'running' | 'complete' | 'complete-with-errors' | 'interrupted';
  createdAt: string;
  updatedAt: string;
  wallSeconds: number;
  environment: Environment;
  config: RunConfig;
  agreement: AgreementInfo | null;
  results: BackendResult[];
  /** Cells not finished yet (running or interrupted runs). */
  pending: string[];
  errors: { backend: string; phase: string; message: string }[];
  notes: string[];
  /** Schema 2: load, clock and steal samples (before the run, then after every round). */
  noise?: NoiseSample[];
  /** Schema 2: ratios to the reference cell (PyTorch when present) from paired windows. */
  comparisons?: { reference: string; rows: Comparison[] } | null;
  /** Schema 2: the machine's measured peaks (GFLOP/s) for the roofline column. */
  peaks?: { native: PeakResult | null; wasm: PeakResult | null } | null;
  /** Schema 2, merged reports (`lenet-bench merge`): the source reports and their machines. */
  machines?: { label: string; file: string; environment: Environment }[];
}

/** The recipe fields a child needs (budgets are the parent's business: it grants windows). */
type JobConfig = Pick<RunConfig, 'dataset' | 'limit' | 'seed' | 'epochs' | 'batchSize' | 'lr' | 'targetAccuracy' | 'threads' | 'maxStepsPerEpoch'>;

/** What a cell's process is told once, in its 'init' command. */
export interface ChildJob extends JobConfig {
  backend: string;
  spec: ModelSpec;
  dataDir?: string;
  /** Where to save the trained weights (absolute). */
  weightsOut: string;
  /** false: training already finished in an earlier invocation (resume): inference only. */
  train: boolean;
  /** Learning-curve evaluation: every this many steps (null: per epoch), on this many stratified test images. */
  evalEverySteps: number | null;
  evalImages: number;
  /** End the training (and report stoppedBy 'target') once the learning curve reaches targetAccuracy. */
  stopAtTarget: boolean;
  /**
   * stopAtTarget waits until this many training windows exist (the warm-up window plus enough for a
   * 95% interval): a backend that reaches the target within its first windows trains on to the end
   * of this window count, so its throughput and ratios still get intervals.
   */
  minTrainWindows: number;
}

/** What one cold-start process does: the backend, its package, and the work of its first calls. */
export interface ColdStartJob {
  backend: string;
  /** The package to import (the cell's BackendResult.package). */
  packageName: string;
  spec: ModelSpec;
  seed: number;
  threads: number | null;
  /** The first training batch (NCHW pixels/255, labels) and the lr of the recipe; the first image is the prediction's. */
  x: Float32Array;
  y: Int32Array;
  n: number;
  lr: number;
  train: boolean;
}

/**
 * The parent drives every cell process with commands, one at a time, and waits for the answer
 * before it lets the next backend run: only one backend works at any moment, and the backends
 * take turns window by window (see runner.ts).
 */
export type ParentCommand =
  | { type: 'init'; job: ChildJob }
  /** Train on for `seconds` more training seconds (answer: 'slice'). */
  | { type: 'train'; seconds: number; round: number }
  /** Stop training: save the weights, evaluate them on `evalImages` test images (answer: 'training' + 'evaluation'). */
  | { type: 'finish'; reason: 'budget' | 'target' | 'done'; evalImages: number }
  /** Build the inference session on the shared weights (answer: 'agreement'?, 'evaluation'?, 'prepared'). */
  | { type: 'prepare'; sharedWeights: string | null; agreementImages: number; evaluate: boolean; evalImages: number; maxBatchSize: number }
  /** One inference window (answer: 'window'). */
  | { type: 'infer'; batchSize: number; seconds: number; round: number }
  /** The peaks process (peaks-child.ts): one window of a machine-peak probe (answer: 'peakWindow'). */
  | { type: 'peak'; kind: 'native' | 'wasm'; seconds: number; round: number; threads: number | null }
  /** A fresh cold-start process (cold-start-child.ts): time import, session, first predict, first step (answer: 'coldStart'). */
  | { type: 'coldStart'; job: ColdStartJob }
  | { type: 'exit' };

export interface ChildInfo {
  package: string;
  description: string;
  canTrain: boolean;
  runtime: string;
  versions: Record<string, string>;
  threads: number | null;
  /** Build facts of the runtime (PyTorch: BLAS actually loaded, oneDNN, CPU capability). */
  build?: Record<string, unknown> | null;
}

/** Messages a cell process sends; 'error' ends it. */
export type ChildMessage =
  | { type: 'phase'; phase: Phase; detail?: string }
  | { type: 'info'; info: ChildInfo }
  | { type: 'ready' }
  | { type: 'step'; progress: StepProgress }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'eval'; point: CurvePoint }
  | { type: 'slice'; window: TrainWindow; finished: 'target' | 'done' | null }
  | { type: 'training'; training: TrainingResult | null; skipped: string | null }
  | { type: 'evaluation'; evaluation: EvaluationResult }
  | { type: 'agreement'; logits: number[]; weightsFile: string }
  | { type: 'prepared' }
  | { type: 'window'; window: InferenceWindow; samplesMs: number[] }
  | { type: 'peakWindow'; kind: 'native' | 'wasm'; round: number; gflops: number[]; detail: string | null; unavailable: string | null }
  | { type: 'coldStart'; sample: ColdStartSample }
  | { type: 'done'; peakRssMB: number }
  | { type: 'error'; phase: Phase; message: string; peakRssMB: number };
