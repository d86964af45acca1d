/**
 * Softmax cross-entropy on logits, in doubles, with the gradient of the MEAN loss over the
 * whole batch (scale = 1/batch), so per-chunk gradients simply add up to the batch gradient.
 *   loss_s = logsumexp(z_s) - z_s[y_s]
 *   dz_s   = (softmax(z_s) - onehot(y_s)) * scale
 */
import type { FloatArray } from '../kernel-types.js';

/**
 * For n samples: writes per-sample losses to losses[lossOff + s] and, when dz is not null,
 * the scaled gradient to dz (may alias z). Labels are read from labels[labelOff + s].
 */
export function softmaxCrossEntropyForwardBackward<F extends FloatArray>(
  n: number, classes: number,
  z: F, zOff: number,
  labels: ArrayLike<number>, labelOff: number,
  scale: number,
  losses: FloatArray, lossOff: number,
  dz: F | null, dzOff: number,
): void {
  for (let s = 0; s < n; s++) {
    const r = zOff + s * classes;
    let max = -Infinity;
    for (let c = 0; c < classes; c++) if (z[r + c] > max) max = z[r + c];
    let sum = 0;
    for (let c = 0; c < classes; c++) sum += Math.exp(z[r + c] - max);
    const lse = max + Math.log(sum);
    const label = labels[labelOff + s];
    losses[lossOff + s] = lse - z[r + label];
    if (dz !== null) {
      const d = dzOff + s * classes;
      for (let c = 0; c < classes; c++) {
        const p = Math.exp(z[r + c] - lse);
        dz[d + c] = (c === label ? p - 1 : p) * scale;
      }
    }
  }
}
