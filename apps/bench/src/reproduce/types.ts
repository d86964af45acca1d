/** Files and messages of `lenet-bench reproduce`. */
import type { EpochMetrics } from '@lenet/core';
import type { DatasetName } from '@lenet/datasets';
import type { TorchBuild } from '../torch/build-info.js';
import type { RecipeOverrides } from './recipes.js';
import type { EvaluationSplit } from './data.js';

/** What the parent sends the child process of one (backend, seed) run. */
export interface ReproduceJob {
  recipe: string;
  backend: string;
  seed: number;
  epochs: number;
  limit: number | null;
  dataDir?: string;
  threads: number | null;
  /** Absolute path where the final weights go. */
  weightsOut: string;
  /** Train on the recipe's training split minus its validation split, evaluate on the latter. */
  validation?: boolean;
  /** reproduce --lr/--momentum/--weight-decay. */
  overrides?: RecipeOverrides;
}

/** DIR/config.json: what the folder's runs were made with (resume refuses a different config). */
export interface ReproduceConfig {
  schema: 'lenet-bench/reproduce';
  schemaVersion: 1;
  recipe: string;
  model: string;
  dataset: DatasetName;
  epochs: number;
  batchSize: number;
  schedule: string;
  augment: string;
  limit: number | null;
  threads: number | null;
  /**
   * Only when not plain SGD / not the test split / given (so folders made before these existed
   * still resume): the optimizer in words, the evaluation split, the tuning overrides.
   */
  optimizer?: string;
  evaluation?: EvaluationSplit;
  overrides?: RecipeOverrides;
}

/** DIR/runs/<backend>-seed<S>.json, written atomically when the run ends (ok or error). */
export interface SeedRun {
  recipe: string;
  backend: string;
  seed: number;
  status: 'ok' | 'error';
  startedAt: string;
  wallSeconds: number;
  runtime: string | null;
  versions: Record<string, string>;
  epochs: EpochMetrics[];
  /** Test accuracy after the last epoch (null if training failed before it). */
  finalAccuracy: number | null;
  finalLoss: number | null;
  bestAccuracy: number | null;
  bestEpoch: number | null;
  trainSeconds: number;
  imagesPerSecond: number;
  /** Relative to the folder. */
  weightsFile: string | null;
  error: { phase: string; message: string } | null;
  environment: { cpuModel: string; cores: number; node: string; loadAverage: number[] };
  /** Backend pytorch only: the build facts read from the training process (BLAS in use, threads, ...). */
  torchBuild?: TorchBuild;
  /** Backend pytorch only: torchBuildWarning() when the set-up understates PyTorch. */
  torchWarning?: string | null;
}

export type ReproduceMessage =
  | { type: 'info'; runtime: string; versions: Record<string, string>; torchBuild?: TorchBuild }
  | { type: 'epoch'; metrics: EpochMetrics }
  | { type: 'step'; epoch: number; step: number; stepsPerEpoch: number; loss: number }
  | { type: 'done'; epochs: EpochMetrics[]; trainSeconds: number; totalImages: number }
  | { type: 'error'; phase: string; message: string; epochs: EpochMetrics[] };
