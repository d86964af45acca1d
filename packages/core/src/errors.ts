/** Errors thrown by the training loop (backends throw BackendInputError from contract.ts). */
import type { EpochMetrics } from './metrics.js';

/**
 * The loss of a training step was NaN or ±Infinity. Training stops at that step; the epochs
 * finished before it are kept in `completed` so no finished work is lost.
 */
export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  /** 1-based epoch of the failing step. */
  readonly epoch: number;
  /** 1-based step within that epoch. */
  readonly step: number;
  /** The offending loss value (NaN, Infinity or -Infinity). */
  readonly loss: number;
  /** Metrics of the epochs completed before the failure. */
  readonly completed: EpochMetrics[];

  constructor(epoch: number, step: number, loss: number, completed: EpochMetrics[] = []) {
    super(
      `training loss became ${loss} at epoch ${epoch}, step ${step}: the run diverged ` +
        `(try a smaller learning rate; ${completed.length} completed epoch(s) kept)`,
    );
    this.epoch = epoch;
    this.step = step;
    this.loss = loss;
    this.completed = completed;
  }
}

/** Invalid options passed to train() or evaluate(); the message names the option. */
export class TrainOptionsError extends Error {
  override name = 'TrainOptionsError';
}

/** A session returned something that breaks the contract (e.g. the wrong number of logits). */
export class BackendOutputError extends Error {
  override name = 'BackendOutputError';
}
