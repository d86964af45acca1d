/** Mean softmax cross-entropy and argmax accuracy, computed in float64. */

export interface LossResult {
  /** Mean over the n samples of -log softmax(logits)[label]. */
  loss: number;
  /** Number of samples whose argmax logit (ties -> lowest index) equals the label. */
  correct: number;
}

/**
 * `logits` holds n rows of `classes` values (row-major; extra trailing values are ignored).
 * Uses log-sum-exp with the row maximum subtracted, so large logits do not overflow.
 * A row containing NaN gives a NaN loss (and is counted as correct only if its argmax, found
 * by strict comparison, happens to match).
 */
export function softmaxCrossEntropy(
  logits: Float32Array | Float64Array,
  labels: ArrayLike<number>,
  n: number,
  classes: number,
): LossResult {
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`softmaxCrossEntropy: n must be a positive integer, got ${n}`);
  }
  if (!Number.isInteger(classes) || classes < 1) {
    throw new RangeError(`softmaxCrossEntropy: classes must be a positive integer, got ${classes}`);
  }
  if (logits.length < n * classes) {
    throw new RangeError(
      `softmaxCrossEntropy: logits has ${logits.length} values, need n*classes = ${n}*${classes} = ${n * classes}`,
    );
  }
  if (labels.length < n) {
    throw new RangeError(`softmaxCrossEntropy: labels has ${labels.length} values, need n = ${n}`);
  }
  let total = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const label = labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= classes) {
      throw new RangeError(
        `softmaxCrossEntropy: label ${i} = ${label} is outside [0, ${classes})`,
      );
    }
    const row = i * classes;
    let max = logits[row]!;
    let argmax = 0;
    for (let k = 1; k < classes; k++) {
      const v = logits[row + k]!;
      if (v > max) {
        max = v;
        argmax = k;
      }
    }
    let sum = 0;
    for (let k = 0; k < classes; k++) sum += Math.exp(logits[row + k]! - max);
    total += Math.log(sum) + max - logits[row + label]!;
    if (argmax === label) correct++;
  }
  return { loss: total / n, correct };
}

/** Index of the largest of `classes` values starting at `offset`; ties -> lowest index. */
export function argmax(values: ArrayLike<number>, offset: number, classes: number): number {
  let best = 0;
  let max = values[offset]!;
  for (let k = 1; k < classes; k++) {
    const v = values[offset + k]!;
    if (v > max) {
      max = v;
      best = k;
    }
  }
  return best;
}
