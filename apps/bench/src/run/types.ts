/**
 * Types of `lenet-bench run`: the report (mirrors schema/report.schema.json, which documents every
 * field), the job a child process receives and the messages it sends back.
 */
import type { EpochMetrics, StepProgress } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import type { DatasetName } from '@lenet/datasets';

export const REPORT_SCHEMA_ID = 'lenet-bench/report';
export const REPORT_SCHEMA_VERSION = 1;

export type Profile = 'quick' | 'full';
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

export interface TrainingResult {
  epochs: EpochMetrics[];
  stoppedBy: 'budget' | null;
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
}

export interface EvaluationResult {
  count: number;
  accuracy: number;
  loss: number;
  confusion: number[][];
  seconds: number;
}

export interface LatencySummary {
  batchSize: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  minMs: number;
  maxMs: number;
  madMs: number;
  samplesCount: number;
  /** images / (p50 seconds). */
  imagesPerSecond: number;
  /** Raw samples in ms, sorted ascending (at most 2,000, evenly thinned from samplesCount). */
  samplesMs: number[];
}

export interface InferenceResult {
  tool: string;
  batch1: LatencySummary;
  batch256: LatencySummary;
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
}

export interface AgreementInfo {
  /** Relative to the report folder. */
  weightsFile: string;
  /** e.g. "final weights of plain (trained in this run)". */
  source: string;
  images: number;
  referenceSeconds: number;
}

export interface Report {
  schema: typeof REPORT_SCHEMA_ID;
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
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
}

/** The recipe and budget fields a child shares with the run's config. */
type JobConfig = Pick<
  RunConfig,
  | 'dataset' | 'limit' | 'seed' | 'epochs' | 'batchSize' | 'lr' | 'targetAccuracy' | 'threads' | 'trainSeconds'
  | 'maxStepsPerEpoch' | 'maxProjectedSeconds' | 'fallbackTrainSeconds' | 'inferenceSeconds' | 'agreementImages'
>;

/** What the parent sends a child (one message over IPC). */
export interface ChildJob extends JobConfig {
  backend: string;
  spec: ModelSpec;
  dataDir?: string;
  /** Shared weights for the agreement check; null: use this backend's own trained weights. */
  agreementWeights: string | null;
  /** Where to save the trained weights (absolute). */
  weightsOut: string;
}

export interface ChildInfo {
  package: string;
  description: string;
  canTrain: boolean;
  runtime: string;
  versions: Record<string, string>;
  threads: number | null;
}

/** Messages a child sends (in this order, some optional); 'done' or 'error' ends it. */
export type ChildMessage =
  | { type: 'phase'; phase: Phase; detail?: string }
  | { type: 'info'; info: ChildInfo }
  | { type: 'step'; progress: StepProgress }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'training'; training: TrainingResult | null; skipped: string | null }
  | { type: 'evaluation'; evaluation: EvaluationResult }
  | { type: 'agreement'; logits: number[]; weightsFile: string }
  | { type: 'inference'; inference: InferenceResult }
  | { type: 'done'; peakRssMB: number }
  | { type: 'error'; phase: Phase; message: string; peakRssMB: number };
