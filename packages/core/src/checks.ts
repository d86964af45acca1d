/**
 * Input checks every backend runs at the top of predict/trainStep, so that all backends reject
 * the same bad input with the same BackendInputError message.
 *
 * Rules (documented in README.md):
 * - `n` is a positive integer (number of images in the batch).
 * - `x` is a Float32Array with length >= n * C*H*W. Longer is allowed: callers such as the
 *   Batcher reuse one buffer sized for a full batch, so the last (partial) batch is a prefix of
 *   it. Backends must read only the first n*C*H*W values.
 * - `y` is an Int32Array with length >= n (same reason); its first n values are class indices
 *   in [0, classes), where classes = units of the spec's last dense layer.
 * - `lr` is a finite number >= 0. lr = 0 is allowed: it computes the loss and gradients without
 *   changing the weights, which is handy for timing a step or measuring the loss. Negative or
 *   non-finite rates are rejected.
 * Pixel values are not inspected (the contract says [0, 1], but checking would cost a pass over
 * the batch and out-of-range values are not an error for the math).
 */
import type { ModelSpec } from '@lenet/model';
import type { Weights } from '@lenet/model';
import { frozenSpec, inputSize, numClasses, SpecError, validateWeights, WeightsError } from '@lenet/model';
import { BackendInputError } from './contract.js';

function describeShape(spec: ModelSpec): string {
  return `[${spec.inputShape.join(', ')}]`;
}

function checkBatchSize(where: string, n: number): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new BackendInputError(
      `${where}: n must be a positive integer (the number of images in the batch), got ${String(n)}`,
    );
  }
}

function checkImages(where: string, spec: ModelSpec, x: Float32Array, n: number): void {
  if (!(x instanceof Float32Array)) {
    throw new BackendInputError(
      `${where}: x must be a Float32Array of NCHW pixels, got ${describeValue(x)}`,
    );
  }
  const size = inputSize(spec);
  const needed = n * size;
  if (x.length < needed) {
    throw new BackendInputError(
      `${where}: x has ${x.length} values but n = ${n} image${n === 1 ? '' : 's'} of shape ${describeShape(spec)} ` +
        `(${size} values each) need ${needed}`,
    );
  }
}

function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}

/** Validates the arguments of BackendSession.predict; throws BackendInputError. */
export function checkPredictInput(spec: ModelSpec, x: Float32Array, n: number): void {
  checkBatchSize('predict', n);
  checkImages('predict', spec, x, n);
}

/** Validates the arguments of BackendSession.trainStep; throws BackendInputError. */
export function checkTrainInput(
  spec: ModelSpec,
  x: Float32Array,
  y: Int32Array,
  n: number,
  lr: number,
): void {
  const where = 'trainStep';
  checkBatchSize(where, n);
  checkImages(where, spec, x, n);
  if (!(y instanceof Int32Array)) {
    throw new BackendInputError(`${where}: y must be an Int32Array of class indices, got ${describeValue(y)}`);
  }
  if (y.length < n) {
    throw new BackendInputError(`${where}: y has ${y.length} labels but n = ${n} images need ${n}`);
  }
  const classes = numClasses(spec);
  for (let i = 0; i < n; i++) {
    const label = y[i]!;
    if (label < 0 || label >= classes) {
      throw new BackendInputError(
        `${where}: label y[${i}] = ${label} is outside [0, ${classes}) (${classes} classes)`,
      );
    }
  }
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0) {
    throw new BackendInputError(`${where}: lr must be a finite number >= 0, got ${String(lr)}`);
  }
}

/**
 * Validates the spec and the initial weights of createSession (every parameter present with the
 * exact shape, finite values, no extras). SpecError/WeightsError are rethrown as
 * BackendInputError (message prefixed with the backend name, original as `cause`).
 * Returns the validated spec, deep-frozen (see frozenSpec in @lenet/model).
 */
export function checkSessionInput(spec: ModelSpec, weights: Weights, backendName: string): ModelSpec {
  let valid: ModelSpec;
  try {
    // Frozen, so the per-call checks (checkPredictInput, checkTrainInput) reuse its analysis.
    valid = frozenSpec(spec);
    validateWeights(valid, weights);
  } catch (e) {
    if (e instanceof WeightsError || e instanceof SpecError) {
      throw new BackendInputError(`${backendName}.createSession: ${e.message}`, { cause: e });
    }
    throw e;
  }
  return valid;
}

