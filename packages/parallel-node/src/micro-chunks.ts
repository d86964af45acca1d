/**
 * The data-parallel rule, as pure arithmetic (no threads): a batch of n samples is cut into
 * micro-chunks of a fixed size (the last may be shorter) whatever the thread count; each
 * micro-chunk's mean loss and mean-loss gradient are computed on their own; the step sums them
 * weighted by chunk size over n, in micro-chunk order, in float64, and rounds each parameter
 * once: param' = fround(param − lr·Σ_k (m_k/n)·g_k). Threads only decide who computes which
 * micro-chunk, never the order of the sum, so the result is bit-identical for any thread count.
 * With an optimizer (momentum / weight decay) the same float64 sum is the gradient g of
 * @lenet/core's sgdMomentumUpdate, and the weight is again rounded once.
 */
import { sgdMomentumUpdate, type SgdMomentum } from '@lenet/core';

/** A session's optimizer and its state (velocity: one float64 per parameter, all parameters in order, 0 at the start). */
export interface OptimizerState {
  sgd: SgdMomentum;
  velocity: Float64Array;
}

/** Sizes of the micro-chunks of a batch of n: ceil(n / chunk) chunks, all `chunk` but the last. */
export function microChunkSizes(n: number, chunk: number): number[] {
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`micro-chunk size must be a positive integer, got ${chunk}`);
  const sizes: number[] = [];
  for (let start = 0; start < n; start += chunk) sizes.push(Math.min(chunk, n - start));
  return sizes;
}

/**
 * Thread t of `threads` computes the contiguous micro-chunks [first, end) (the same split as
 * backend-plain's runner): floor(t·C/T) .. floor((t+1)·C/T). Some ranges are empty when there are
 * fewer chunks than threads.
 */
export function threadChunkRanges(chunks: number, threads: number): { first: number; end: number }[] {
  return Array.from({ length: threads }, (_, t) => ({ first: Math.floor((t * chunks) / threads), end: Math.floor(((t + 1) * chunks) / threads) }));
}

/**
 * The SGD step from micro-chunk results: next[i][j] = fround(params[i][j] − lr·Σ_k w_k·grads[k][off_i + j])
 * with w_k = sizes[k]/n, summed in micro-chunk order k = 0, 1, … in float64 (`grads[k]` holds all
 * parameters of micro-chunk k, in the order of `params`; `acc` is scratch of at least that many
 * float64s). Returns the batch's mean loss Σ_k w_k·losses[k], summed the same way. With
 * `optimizer`, next = fround(sgdMomentumUpdate(param, Σ_k w_k·grads[k], lr)) instead, and its
 * velocity is updated.
 */
export function sgdFromMicroChunks(
  params: readonly Float32Array[],
  sizes: readonly number[],
  losses: ArrayLike<number>,
  grads: readonly Float32Array[],
  lr: number,
  next: Float32Array[],
  acc: Float64Array = new Float64Array(params.reduce((a, p) => a + p.length, 0)),
  optimizer?: OptimizerState,
): number {
  const n = sizes.reduce((a, b) => a + b, 0);
  let loss = 0;
  for (let k = 0; k < sizes.length; k++) loss += (sizes[k]! / n) * losses[k]!;
  const total = params.reduce((a, p) => a + p.length, 0);
  const K = sizes.length;
  if (optimizer) {
    for (let k = 0; k < K; k++) accumulate(acc, grads[k]!, sizes[k]! / n, total, k === 0);
    const { sgd, velocity } = optimizer;
    let off = 0;
    for (let i = 0; i < params.length; i++) {
      const p = params[i]!;
      const out = next[i]!;
      for (let j = 0; j < p.length; j++) out[j] = sgdMomentumUpdate(p[j]!, acc[off + j]!, lr, sgd, velocity, off + j);
      off += p.length;
    }
    return loss;
  }
  // Chunk by chunk over all parameters (each gradient streamed once, K passes in all); every
  // parameter's sum still starts at 0 and adds the chunks in order k = 0, 1, …, so the bits equal
  // the per-parameter loop. The last chunk's pass also applies the update.
  for (let k = 0; k < K - 1; k++) accumulate(acc, grads[k]!, sizes[k]! / n, total, k === 0);
  let off = 0;
  const last = grads[K - 1]!;
  const wLast = sizes[K - 1]! / n;
  for (let i = 0; i < params.length; i++) {
    update(params[i]!, next[i]!, acc, last, wLast, lr, off, K === 1);
    off += params[i]!.length;
  }
  return loss;
}

/** acc[j] = (first ? 0 : acc[j]) + w·g[j]; functions of their own so V8 optimises the hot loops on their own terms. */
function accumulate(acc: Float64Array, g: Float32Array, w: number, len: number, first: boolean): void {
  if (first) for (let j = 0; j < len; j++) acc[j] = 0 + w * g[j]!;
  else for (let j = 0; j < len; j++) acc[j] = acc[j]! + w * g[j]!;
}

/** out[j] = p[j] − lr·(acc[off + j] + w·g[off + j]) (acc taken as 0 when `only`); the Float32Array store rounds once. */
function update(p: Float32Array, out: Float32Array, acc: Float64Array, g: Float32Array, w: number, lr: number, off: number, only: boolean): void {
  const len = p.length;
  if (only) for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (0 + w * g[off + j]!);
  else for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (acc[off + j]! + w * g[off + j]!);
}
