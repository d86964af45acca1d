/**
 * What the training loop reports per epoch. A module of its own (types only) so that errors.ts,
 * whose NonFiniteLossError carries the completed epochs, and train.ts, which throws it, do not
 * import each other.
 */
export interface EpochMetrics {
  /** 1-based. */
  epoch: number;
  /** Training steps (batches) done in this epoch. */
  steps: number;
  /** Images trained on in this epoch. */
  images: number;
  /** Sample-weighted mean of the step losses (each computed before its update), as in d2l. */
  trainLoss: number;
  /** Mean loss on the test split after the epoch. */
  valLoss: number;
  /** Accuracy on the test split after the epoch. */
  valAccuracy: number;
  /** Training wall time of this epoch in seconds (batch preparation + trainStep; no evaluation). */
  seconds: number;
  /** Wall time of the evaluation after this epoch. */
  evalSeconds: number;
  /** images / seconds. */
  imagesPerSecond: number;
  /** Cumulative training seconds up to the end of this epoch. */
  elapsedSeconds: number;
  /** True when a budget (maxStepsPerEpoch / maxSeconds) cut this epoch short. */
  partial: boolean;
}
