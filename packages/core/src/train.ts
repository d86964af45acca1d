/**
 * The training loop, written once for every backend (d2l's train_ch6): seeded shuffled
 * mini-batches, one session.trainStep per batch, evaluation on the test split after each
 * epoch, timing of training separate from evaluation, budgets, cancellation and progress.
 * The optimizer (momentum / weight decay, TrainingOptions.optimizer) is the session's, chosen when
 * the caller creates it; the loop only passes each step's lr, so it is the same for every rule.
 */
import type { ModelSpec } from '@lenet/model';
import { numClasses } from '@lenet/model';
import type { ImageSplit } from '@lenet/datasets';
import { Batcher } from '@lenet/datasets';
import type { TrainingSession } from './contract.js';
import type { EpochMetrics } from './metrics.js';
import { NonFiniteLossError, TrainOptionsError } from './errors.js';
import { checkPositiveInteger, DEFAULT_EVAL_BATCH_SIZE, evaluate, type Evaluation } from './evaluate.js';

export interface TrainOptions {
  /** A session whose backend can train (has trainStep). */
  session: TrainingSession;
  /** The spec the session was built from; checked against the splits' image size and classes. */
  spec: ModelSpec;
  train: ImageSplit;
  /** Evaluated after every epoch (d2l validates on the test split). */
  test: ImageSplit;
  /** Default 10. */
  epochs?: number;
  /** Default 128. The last batch of an epoch may be smaller (lastBatch 'partial'). */
  batchSize?: number;
  /** SGD learning rate. Default 0.1. */
  lr?: number;
  /**
   * Optional learning-rate schedule: the lr of each step (e.g. step or cosine decay). Overrides
   * `lr` when given; must return a finite number >= 0 (checked every step).
   */
  lrSchedule?: (at: ScheduleStep) => number;
  /**
   * Optional in-place transform of each training batch before its step (e.g. data augmentation).
   * Called in step order with the batch's first n images (NCHW float32) and labels; it must be
   * deterministic in (epoch, step) for runs to be reproducible across backends.
   */
  augment?: (batch: { x: Float32Array; y: Int32Array; n: number; epoch: number; step: number }) => void;
  /** Seed of the batch order (epoch e uses Batcher's order for (seed, e)). Default 0. */
  seed?: number;
  /** Records timeToTarget: the first epoch whose valAccuracy >= this, in [0, 1]. */
  targetAccuracy?: number;
  /** Train at most this many steps per epoch (the epoch is then marked partial). */
  maxStepsPerEpoch?: number;
  /**
   * Stop once this many seconds of training time (the clock of elapsedSeconds, evaluation not
   * included) have been spent. The epoch in progress is cut after the current step,
   * evaluated and marked partial; stoppedBy = 'budget'.
   */
  maxSeconds?: number;
  /** Images per predict call when evaluating. Default 1000. */
  evalBatchSize?: number;
  /** Called after each epoch's evaluation. */
  onEpoch?: (metrics: EpochMetrics) => void;
  /** Called after every step; keep it cheap (throttle rendering on the caller's side). */
  onStep?: (progress: StepProgress) => void;
  /**
   * Aborting stops training after the current step. Finished epochs are returned; the
   * unfinished epoch is not evaluated (its steps did update the session's weights; see
   * TrainResult.stoppedAt). stoppedBy = 'signal'.
   */
  signal?: AbortSignal;
  /**
   * Awaited before every step, outside the step's timing: lets a scheduler pause training
   * between measurement windows (lenet-bench interleaves backends this way). Aborting `signal`
   * while it waits stops training before the next step.
   */
  beforeStep?: () => Promise<void> | void;
  /**
   * Evaluate on `test` every this many steps as well as after each epoch (sub-epoch learning
   * curves); each evaluation is reported through onEval, and its time is not training time.
   */
  evalEverySteps?: number;
  /** Called for every evaluation (sub-epoch and end of epoch), in step order. */
  onEval?: (point: EvalPoint) => void;
}

/** One point of the learning curve: the model after `totalSteps` steps, evaluated on `test`. */
export interface EvalPoint {
  epoch: number;
  /** Steps done in this epoch (1-based position of the last step). */
  step: number;
  totalSteps: number;
  /** Images trained on since the start. */
  images: number;
  /** Training seconds since the start (evaluations excluded). */
  elapsedSeconds: number;
  accuracy: number;
  loss: number;
  evalSeconds: number;
  /** True at the end of an epoch. */
  endOfEpoch: boolean;
}

export type { EpochMetrics } from './metrics.js';

/** Where a training step is, for lrSchedule: epoch and step are 1-based, totalStep 0-based. */
export interface ScheduleStep {
  epoch: number;
  step: number;
  stepsPerEpoch: number;
  /** Steps done before this one in the whole run. */
  totalStep: number;
}

export interface StepProgress {
  /** 1-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  /** Steps this epoch will have (after maxStepsPerEpoch), unless maxSeconds/abort cut it. */
  stepsPerEpoch: number;
  /** Loss of this step. */
  loss: number;
  /** Images trained on so far in this epoch. */
  images: number;
  /** Training seconds so far in this epoch. */
  seconds: number;
  /** Training seconds so far in the whole run. */
  elapsedSeconds: number;
}

export interface TrainResult {
  /** Metrics of every evaluated epoch, in order. */
  epochs: EpochMetrics[];
  /** First epoch whose valAccuracy reached targetAccuracy (seconds = cumulative training time). */
  timeToTarget?: { accuracy: number; epoch: number; seconds: number };
  /** Why the run ended before all epochs were done; absent when it ran to the end. */
  stoppedBy?: 'budget' | 'signal';
  /** Where training stopped when stoppedBy is set: last completed step (1-based epoch/step). */
  stoppedAt?: { epoch: number; step: number };
  /** Total training steps done (including an unevaluated aborted epoch's). */
  totalSteps: number;
  /** Total training seconds (including an unevaluated aborted epoch's). */
  trainSeconds: number;
  /**
   * The full evaluation (with confusion matrix) of the last evaluated epoch. Unless the run was
   * aborted mid-epoch (stoppedBy 'signal'), this is the evaluation of the final weights, so
   * callers need no second pass over the test split.
   */
  finalEvaluation?: Evaluation;
}

export const TRAIN_DEFAULTS = { epochs: 10, batchSize: 128, lr: 0.1, seed: 0 } as const;

/** Let timers, signal handlers and rendering run at most every this many ms of training. */
const YIELD_INTERVAL_MS = 25;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    const setImmediateFn = (globalThis as { setImmediate?: (cb: () => void) => unknown }).setImmediate;
    if (setImmediateFn) setImmediateFn(resolve);
    else setTimeout(resolve, 0);
  });
}

function checkSplitFitsSpec(spec: ModelSpec, split: ImageSplit, which: string): void {
  const [c, h, w] = spec.inputShape;
  if (c !== 1 || h !== split.rows || w !== split.cols) {
    throw new TrainOptionsError(
      `train: the ${which} split has ${split.rows}x${split.cols} grayscale images (input [1, ${split.rows}, ` +
        `${split.cols}]) but spec "${spec.name}" expects input [${spec.inputShape.join(', ')}]`,
    );
  }
  const classes = numClasses(spec);
  if (classes !== split.classNames.length) {
    throw new TrainOptionsError(
      `train: the ${which} split has ${split.classNames.length} classes but spec "${spec.name}" ` +
        `outputs ${classes}`,
    );
  }
  if (split.count === 0) throw new TrainOptionsError(`train: the ${which} split has no images`);
}

/** Trains `session` for the configured epochs; see TrainOptions for budgets and cancellation. */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { session, spec, signal, onEpoch, onStep } = options;
  const epochs = checkPositiveInteger('train: epochs', options.epochs ?? TRAIN_DEFAULTS.epochs);
  const batchSize = checkPositiveInteger('train: batchSize', options.batchSize ?? TRAIN_DEFAULTS.batchSize);
  const evalBatchSize = checkPositiveInteger('train: evalBatchSize', options.evalBatchSize ?? DEFAULT_EVAL_BATCH_SIZE);
  const lr = options.lr ?? TRAIN_DEFAULTS.lr;
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new TrainOptionsError(`train: lr must be a finite number >= 0, got ${String(lr)}`);
  }
  const seed = options.seed ?? TRAIN_DEFAULTS.seed;
  if (!Number.isInteger(seed)) throw new TrainOptionsError(`train: seed must be an integer, got ${String(seed)}`);
  const { targetAccuracy, maxSeconds } = options;
  if (targetAccuracy !== undefined && !(targetAccuracy >= 0 && targetAccuracy <= 1)) {
    throw new TrainOptionsError(`train: targetAccuracy must be in [0, 1], got ${String(targetAccuracy)}`);
  }
  if (maxSeconds !== undefined && !(typeof maxSeconds === 'number' && maxSeconds > 0)) {
    throw new TrainOptionsError(`train: maxSeconds must be a number > 0, got ${String(maxSeconds)}`);
  }
  const evalEvery = options.evalEverySteps === undefined ? Infinity : checkPositiveInteger('train: evalEverySteps', options.evalEverySteps);
  const maxSteps =
    options.maxStepsPerEpoch === undefined
      ? Infinity
      : checkPositiveInteger('train: maxStepsPerEpoch', options.maxStepsPerEpoch);
  checkSplitFitsSpec(spec, options.train, 'train');
  checkSplitFitsSpec(spec, options.test, 'test');

  const pixels = options.train.rows * options.train.cols;
  const batcher = new Batcher(options.train, { batchSize, seed, shuffle: true, lastBatch: 'partial' });
  const stepsPerEpoch = Math.min(batcher.batchesPerEpoch, maxSteps);
  const result: TrainResult = { epochs: [], totalSteps: 0, trainSeconds: 0 };
  let elapsed = 0;
  let imagesTotal = 0;
  let lastYield = performance.now();

  for (let e = 0; e < epochs; e++) {
    const epoch = e + 1;
    if (signal?.aborted || (maxSeconds !== undefined && elapsed >= maxSeconds)) {
      result.stoppedBy = signal?.aborted ? 'signal' : 'budget';
      break;
    }
    let steps = 0;
    let images = 0;
    let lossSum = 0;
    let seconds = 0;
    let outOfTime = false;
    const batches = batcher.epoch(e);
    while (steps < stepsPerEpoch) {
      if (performance.now() - lastYield >= YIELD_INTERVAL_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
      if (signal?.aborted) break;
      if (options.beforeStep) {
        await options.beforeStep();
        lastYield = performance.now();
        if (signal?.aborted) break;
      }
      const t0 = performance.now();
      const next = batches.next();
      if (next.done) break;
      const { n } = next.value;
      const x = next.value.x.subarray(0, n * pixels);
      const y = next.value.y.subarray(0, n);
      if (options.augment) options.augment({ x, y, n, epoch, step: steps + 1 });
      let stepLr = lr;
      if (options.lrSchedule) {
        stepLr = options.lrSchedule({ epoch, step: steps + 1, stepsPerEpoch, totalStep: result.totalSteps });
        if (typeof stepLr !== 'number' || !Number.isFinite(stepLr) || stepLr < 0) {
          throw new TrainOptionsError(`train: lrSchedule returned ${String(stepLr)} at epoch ${epoch} step ${steps + 1}; expected a finite number >= 0`);
        }
      }
      const loss = await session.trainStep(x, y, n, stepLr);
      const dt = (performance.now() - t0) / 1000;
      seconds += dt;
      elapsed += dt;
      steps++;
      images += n;
      result.totalSteps++;
      result.trainSeconds = elapsed;
      if (typeof loss !== 'number' || !Number.isFinite(loss)) {
        throw new NonFiniteLossError(epoch, steps, loss, result.epochs.slice());
      }
      lossSum += loss * n;
      imagesTotal += n;
      onStep?.({ epoch, step: steps, stepsPerEpoch, loss, images, seconds, elapsedSeconds: elapsed });
      // Sub-epoch evaluation; the end of the epoch is evaluated below in any case.
      if (result.totalSteps % evalEvery === 0 && steps < stepsPerEpoch && !(maxSeconds !== undefined && elapsed >= maxSeconds)) {
        const te = performance.now();
        const ev = await evaluate(session, options.test, { batchSize: evalBatchSize });
        options.onEval?.({ epoch, step: steps, totalSteps: result.totalSteps, images: imagesTotal, elapsedSeconds: elapsed, accuracy: ev.accuracy, loss: ev.loss, evalSeconds: (performance.now() - te) / 1000, endOfEpoch: false });
        lastYield = performance.now();
      }
      if (maxSeconds !== undefined && elapsed >= maxSeconds) {
        outOfTime = true;
        break;
      }
    }
    if (signal?.aborted && !outOfTime && steps < stepsPerEpoch) {
      // Aborted mid-epoch: keep finished epochs, do not spend time evaluating this one.
      result.stoppedBy = 'signal';
      result.stoppedAt = { epoch, step: steps };
      break;
    }
    const t1 = performance.now();
    const ev = await evaluate(session, options.test, { batchSize: evalBatchSize });
    const evalSeconds = (performance.now() - t1) / 1000;
    lastYield = performance.now();
    const metrics: EpochMetrics = {
      epoch,
      steps,
      images,
      trainLoss: images > 0 ? lossSum / images : NaN,
      valLoss: ev.loss,
      valAccuracy: ev.accuracy,
      seconds,
      evalSeconds,
      imagesPerSecond: seconds > 0 ? images / seconds : 0,
      elapsedSeconds: elapsed,
      partial: steps < batcher.batchesPerEpoch,
    };
    result.epochs.push(metrics);
    result.finalEvaluation = ev;
    options.onEval?.({ epoch, step: steps, totalSteps: result.totalSteps, images: imagesTotal, elapsedSeconds: elapsed, accuracy: ev.accuracy, loss: ev.loss, evalSeconds, endOfEpoch: true });
    if (targetAccuracy !== undefined && !result.timeToTarget && ev.accuracy >= targetAccuracy) {
      result.timeToTarget = { accuracy: ev.accuracy, epoch, seconds: elapsed };
    }
    onEpoch?.(metrics);
    if (outOfTime && (steps < stepsPerEpoch || e < epochs - 1)) {
      result.stoppedBy = 'budget';
      result.stoppedAt = { epoch, step: steps };
      break;
    }
  }
  if (result.stoppedBy && !result.stoppedAt) {
    const last = result.epochs[result.epochs.length - 1];
    result.stoppedAt = { epoch: last?.epoch ?? 0, step: last?.steps ?? 0 };
  }
  return result;
}
