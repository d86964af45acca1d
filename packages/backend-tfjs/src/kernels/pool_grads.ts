/**
 * Pooling gradients composed from ordinary TF.js ops (valid padding, square windows), used by
 * the training step instead of the MaxPoolGrad/AvgPoolGrad kernels where those are wrong or
 * slow.
 *
 * - tfjs-backend-wasm 4.22's MaxPoolGrad (and MaxPoolWithArgmax) start the running maximum at
 *   std::numeric_limits<float>::min() — the smallest *positive* float, not the lowest — so in
 *   any window whose values are all <= 0 the gradient is routed to the wrong element (or
 *   dropped); ties also go to the last maximum instead of the first. maxPoolGrad below gives
 *   the gradient to the first maximum of each window in row-major order, like tfjs-backend-cpu
 *   and the float64 reference.
 * - tfjs-backend-wasm's AvgPoolGrad and MaxPoolGrad are plain loops, several times slower than
 *   the broadcasting elementwise ops used below for non-overlapping windows (s === k).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Zero-pads the bottom/right of an [N, h, w, C] grid to [N, H, W, C] (no-op when equal). */
function padTo(grid: tf.Tensor4D, h: number, w: number): tf.Tensor4D {
  const [, gh, gw] = grid.shape;
  return gh === h && gw === w ? grid : tf.pad(grid, [[0, 0], [0, h - gh], [0, w - gw], [0, 0]]);
}

/**
 * Puts per-window-offset gradients back on the input grid: `parts[i*k + j]`, shape
 * [N, Ho, Wo, C], holds what flows to the element at offset (i, j) of every window. For the
 * general (overlapping or gapped, s !== k) case; slow-ish but rare (not in the presets).
 */
function scatterWindowParts(parts: tf.Tensor4D[], inShape: readonly number[], k: number, s: number): tf.Tensor4D {
  const [n, h, w, c] = inShape;
  const [, ho, wo] = parts[0].shape;
  // Overlapping or gapped windows: dilate each part by s, shift it to its offset, sum.
  const placed = parts.map((part, p) => {
    const i = Math.floor(p / k);
    const j = p % k;
    const dilated = tf.reshape(
      tf.pad(tf.reshape(part, [n, ho, 1, wo, 1, c]), [[0, 0], [0, 0], [0, s - 1], [0, 0], [0, s - 1], [0, 0]]),
      [n, ho * s, wo * s, c],
    );
    // Rows past (Ho-1)*s are the dilation's zeros; keep what fits inside the input.
    const rows = Math.min(ho * s, h - i);
    const cols = Math.min(wo * s, w - j);
    const fitted = tf.slice(dilated, [0, 0, 0, 0], [n, rows, cols, c]);
    return tf.pad(fitted, [[0, 0], [i, h - i - rows], [j, w - j - cols], [0, 0]]) as tf.Tensor4D;
  });
  return tf.addN(placed);
}

/** The values of x seen at window offset (i, j) of every window: [N, Ho, Wo, C]. */
function windowOffset(x: tf.Tensor4D, i: number, j: number, ho: number, wo: number, s: number): tf.Tensor4D {
  const [n, , , c] = x.shape;
  return tf.stridedSlice(x, [0, i, j, 0], [n, i + (ho - 1) * s + 1, j + (wo - 1) * s + 1, c], [1, s, s, 1]) as tf.Tensor4D;
}

/** x cropped to the rows/columns the windows cover, as [N, Ho, k, Wo, k, C] (needs s === k). */
function windows6d(x: tf.Tensor4D, ho: number, wo: number, k: number): tf.Tensor {
  const [n, h, w, c] = x.shape;
  const covered = h === ho * k && w === wo * k ? x : tf.slice(x, [0, 0, 0, 0], [n, ho * k, wo * k, c]);
  return tf.reshape(covered, [n, ho, k, wo, k, c]);
}

/** Options of maxPoolGrad. */
export interface MaxPoolGradOptions {
  /**
   * x is a ReLU output: also apply the ReLU's derivative, giving dL/d(ReLU input). Exact: the
   * gradient only reaches window maxima, where x equals y, so step(y) on the small pooled grid
   * replaces step(x) on the full one.
   */
  relu?: boolean;
}

/**
 * dL/dx of y = maxPool(x, k, s, 'valid'): dy goes to the first maximum (row-major) of each
 * window, like tfjs-backend-cpu. Call inside tf.tidy.
 *
 * Non-overlapping windows (s === k): every element gets a score, step(max - x, k*k+1) *
 * priority, where priority k*k - (i*k + j) is largest for the first element of a window and
 * step(t, a) is 1 for t > 0 (x below its window's maximum), a for t == 0 (x is the maximum).
 * Maxima score (k*k+1) * priority > k*k >= any other score, so each window's largest score is
 * unique and sits on its first maximum; maxPoolWithArgmax finds it and scatterND puts dy there.
 * Every score is >= 1, so the argmax is right even on tfjs-backend-wasm 4.22, whose
 * MaxPoolWithArgmax misses windows without a positive value and prefers the last of tied maxima.
 * This is about twice as fast on wasm as comparing against the window maximum a second time
 * (broadcasting binary ops are several times slower than same-shape ones there).
 */
export function maxPoolGrad(
  x: tf.Tensor4D,
  y: tf.Tensor4D,
  dy: tf.Tensor4D,
  k: number,
  s: number,
  { relu = false }: MaxPoolGradOptions = {},
): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const [, ho, wo] = y.shape;
  if (s === k) {
    const priority = tf.tensor(
      Array.from({ length: k * k }, (_, p) => k * k - p),
      [1, 1, k, 1, k, 1],
      'float32',
    );
    const belowMax = tf.sub(tf.reshape(y, [n, ho, 1, wo, 1, c]), windows6d(x, ho, wo, k));
    const score = tf.mul(tf.step(belowMax, k * k + 1), priority);
    const covered: [number, number, number, number] = [n, ho * k, wo * k, c];
    const { indexes } = tf.maxPoolWithArgmax(tf.reshape(score, covered) as tf.Tensor4D, k, k, 'valid', true);
    const values = relu ? tf.mul(dy, tf.step(y)) : dy;
    const flat = tf.scatterND(tf.reshape(indexes, [-1, 1]), tf.reshape(values, [-1]), [n * ho * k * wo * k * c]);
    return padTo(tf.reshape(flat, covered) as tf.Tensor4D, h, w);
  }
  const dx = overlappingMaxPoolGrad(x, y, dy, k, s);
  return relu ? tf.mul(dx, tf.step(x)) : dx;
}

/** maxPoolGrad for s !== k. */
function overlappingMaxPoolGrad(x: tf.Tensor4D, y: tf.Tensor4D, dy: tf.Tensor4D, k: number, s: number): tf.Tensor4D {
  const [, ho, wo] = y.shape;
  const zeros = tf.zerosLike(dy);
  let taken: tf.Tensor | undefined;
  const parts: tf.Tensor4D[] = [];
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let hit: tf.Tensor = tf.equal(windowOffset(x, i, j, ho, wo, s), y);
      if (taken === undefined) {
        taken = hit;
      } else {
        hit = tf.logicalAnd(hit, tf.logicalNot(taken));
        taken = tf.logicalOr(taken, hit);
      }
      parts.push(tf.where(hit, dy, zeros) as tf.Tensor4D);
    }
  }
  return scatterWindowParts(parts, x.shape, k, s);
}

/**
 * dL/dx of y = avgPool(x, k, s, 'valid'). Call inside tf.tidy. Non-overlapping windows
 * (s === k): one broadcasting multiply of dy by a [k, k] block of 1/k^2.
 *
 * With `scale` (shaped like x), returns that times dL/dx: for x = act(z), scale = act'(z) gives
 * dL/dz. For s === k the 1/k^2 then goes onto the small dy and the broadcasting multiply takes
 * scale's windows instead of the constant block: one full-size multiply fewer.
 */
export function avgPoolGrad(xShape: readonly number[], dy: tf.Tensor4D, k: number, s: number, scale?: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = xShape;
  const [, ho, wo] = dy.shape;
  if (s === k) {
    const windows = scale === undefined ? tf.fill([1, 1, k, 1, k, 1], 1 / (k * k), 'float32') : windows6d(scale, ho, wo, k);
    const share = scale === undefined ? dy : tf.mul(dy, 1 / (k * k));
    const grid = tf.reshape(tf.mul(tf.reshape(share, [n, ho, 1, wo, 1, c]), windows), [n, ho * k, wo * k, c]);
    return padTo(grid as tf.Tensor4D, h, w);
  }
  const share = tf.mul(dy, 1 / (k * k)) as tf.Tensor4D;
  const parts: tf.Tensor4D[] = [];
  for (let p = 0; p < k * k; p++) parts.push(share);
  const dx = scatterWindowParts(parts, xShape, k, s);
  return scale === undefined ? dx : tf.mul(dx, scale);
}
