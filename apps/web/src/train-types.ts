/**
 * In-page training: what is asked (TrainRequest), what streams out while it runs (TrainEvent)
 * and what comes back (BrowserTraining), all plain JSON so they cross postMessage and
 * page.evaluate. `lenet-bench browser --train-steps` maps BrowserTraining onto report rows.
 */
import type { EpochMetrics, StepProgress } from '@lenet/core';
import type { BackendFamily } from './types.js';

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

export interface BrowserTraining {
  id: string;
  family: BackendFamily;
  /** The @lenet backend's name ("plain", "ort-web", "tfjs-wasm", ...). */
  backend: string;
  package: string;
  where: 'main thread' | 'web worker';
  /** unavailable: the browser lacks the backend, or it cannot train (reason says which). */
  status: 'ok' | 'unavailable' | 'error';
  reason: string | null;
  phase: string | null;
  description: string;
  runtime: string | null;
  versions: Record<string, string>;
  threads: number | null;
  startedAt: string;
  wallSeconds: number;
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
