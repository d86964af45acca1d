/** Evaluation of a session on a dataset split: accuracy, mean loss and confusion matrix. */
import type { ImageSplit } from '@lenet/datasets';
import { Batcher } from '@lenet/datasets';
import type { BackendSession } from './contract.js';
import { BackendOutputError, TrainOptionsError } from './errors.js';
import { argmax, softmaxCrossEntropy } from './loss.js';

export interface EvaluateOptions {
  /** Images per predict call. Default 1000. */
  batchSize?: number;
}

export interface Evaluation {
  /** Number of images evaluated (the whole split, each exactly once). */
  count: number;
  /** Fraction of images whose argmax logit (ties -> lowest index) equals the label. */
  accuracy: number;
  /** Mean softmax cross-entropy over all images. */
  loss: number;
  /** confusion[trueClass][predictedClass] = number of images. */
  confusion: number[][];
}

export const DEFAULT_EVAL_BATCH_SIZE = 1000;

export function checkPositiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TrainOptionsError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * Runs `session.predict` over every image of `split` in order (no shuffling, last batch
 * partial) and scores the logits. The number of classes is the split's (classNames.length);
 * the session must return exactly that many logits per image.
 */
export async function evaluate(
  session: BackendSession,
  split: ImageSplit,
  options: EvaluateOptions = {},
): Promise<Evaluation> {
  const batchSize = checkPositiveInteger('evaluate: batchSize', options.batchSize ?? DEFAULT_EVAL_BATCH_SIZE);
  const classes = split.classNames.length;
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  if (split.count === 0) {
    throw new TrainOptionsError(`evaluate: the ${split.dataset} ${split.split} split has no images`);
  }
  const pixels = split.rows * split.cols;
  const batcher = new Batcher(split, { batchSize, shuffle: false, lastBatch: 'partial' });
  let count = 0;
  let correct = 0;
  let lossSum = 0;
  for (const batch of batcher.epoch(0)) {
    const { n } = batch;
    // Exact-length views: backends accept longer buffers, but an exact view is friendlier.
    const logits = await session.predict(batch.x.subarray(0, n * pixels), n);
    if (logits.length !== n * classes) {
      throw new BackendOutputError(
        `evaluate: predict returned ${logits.length} logits for ${n} images; the ${split.dataset} ` +
          `split has ${classes} classes, so ${n * classes} were expected`,
      );
    }
    const y = batch.y;
    const r = softmaxCrossEntropy(logits, y, n, classes);
    lossSum += r.loss * n;
    correct += r.correct;
    for (let i = 0; i < n; i++) confusion[y[i]!]![argmax(logits, i * classes, classes)]!++;
    count += n;
  }
  return { count, accuracy: correct / count, loss: lossSum / count, confusion };
}
