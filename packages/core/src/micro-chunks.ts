/**
 * The data-parallel rule of LeNet Bench, as pure arithmetic (no threads; browser-safe). Both
 * executors follow it: @lenet/parallel-node's engine (Node, runtimes that cannot share memory
 * between threads) and backend-plain's in-wasm runner (one wasm memory shared by its threads).
 *
 * 1. A batch of n samples is cut into micro-chunks of a fixed size (the last may be shorter),
 *    chosen per backend and never derived from the thread count.
 * 2. Each micro-chunk's loss and gradient are computed on their own.
 * 3. The step sums the micro-chunk gradients weighted by w_k, in micro-chunk order k = 0, 1, …,
 *    in float64, and rounds each parameter once: param' = fround(param − lr·Σ_k w_k·g_k).
 *
 * Threads only decide who computes which micro-chunk, never the order of the sum, so the result
 * is bit-identical for any thread count. With an optimizer (momentum / weight decay), the same
 * float64 sum is the gradient g of optimizer.ts's sgdMomentumUpdate, and the weight is again
 * rounded once. Two layouts of the same sum:
 * - sgdFromMicroChunks / applyMicroChunkGradients: one array per micro-chunk, mean-loss gradients
 *   weighted by w_k = m_k/n (@lenet/parallel-node's engine);
 * - applyGradientSlots: the micro-chunks' gradients side by side in one buffer, already scaled
 *   by 1/n (w_k = 1, exact), a range of parameters at a time so that threads can share the update
 *   (backend-plain). A unit test checks the two give the same bits.
 */
import { sgdMomentumUpdate, type SgdMomentum } from './optimizer.js';

/** A session's optimizer and its state (velocity: one float64 per parameter, all parameters in order, 0 at the start). */
export interface OptimizerState {
  sgd: SgdMomentum;
  velocity: Float64Array;
}

function checkChunk(chunk: number): void {
  if (!Number.isInteger(chunk) || chunk < 1) throw new RangeError(`micro-chunk size must be a positive integer, got ${chunk}`);
}

/** Number of micro-chunks of a batch of n: ceil(n / chunk). */
export function microChunkCount(n: number, chunk: number): number {
  checkChunk(chunk);
  return Math.ceil(n / chunk);
}

/** Sizes of the micro-chunks of a batch of n: ceil(n / chunk) chunks, all `chunk` but the last. */
export function microChunkSizes(n: number, chunk: number): number[] {
  checkChunk(chunk);
  const sizes: number[] = [];
  for (let start = 0; start < n; start += chunk) sizes.push(Math.min(chunk, n - start));
  return sizes;
}

/**
 * A static split of C micro-chunks over T threads: thread t computes the contiguous run
 * [floor(t·C/T), floor((t+1)·C/T)). Some runs are empty when there are fewer chunks than threads.
 * (Any other assignment gives the same bits; plain's threads claim chunks from a shared counter.)
 */
export function threadChunkRanges(chunks: number, threads: number): { first: number; end: number }[] {
  return Array.from({ length: threads }, (_, t) => ({ first: Math.floor((t * chunks) / threads), end: Math.floor(((t + 1) * chunks) / threads) }));
}

/**
 * The SGD step from micro-chunk results: next[i][j] = fround(params[i][j] − lr·Σ_k w_k·grads[k][off_i + j])
 * with w_k = sizes[k]/n, summed in micro-chunk order in float64 (`grads[k]` holds all parameters
 * of micro-chunk k, in the order of `params`; `acc` is scratch of at least that many float64s).
 * Returns the batch's mean loss Σ_k w_k·losses[k], summed the same way. With `optimizer`,
 * next = fround(sgdMomentumUpdate(param, Σ_k w_k·grads[k], lr)) instead (the same float64 sum),
 * and its velocity is updated.
 */
export function sgdFromMicroChunks(
  params: readonly Float32Array[],
  sizes: readonly number[],
  losses: ArrayLike<number>,
  grads: readonly Float32Array[],
  lr: number,
  next: Float32Array[],
  acc?: Float64Array,
  optimizer?: OptimizerState,
): number {
  const n = sizes.reduce((a, b) => a + b, 0);
  const weights = sizes.map((m) => m / n);
  let loss = 0;
  for (let k = 0; k < weights.length; k++) loss += weights[k]! * losses[k]!;
  if (optimizer) applyMomentumFromMicroChunks(params, weights, grads, lr, next, optimizer, acc);
  else applyMicroChunkGradients(params, weights, grads, lr, next, acc);
  return loss;
}

/** The optimizer path of sgdFromMicroChunks: the full float64 sum first, then one sgdMomentumUpdate per parameter. */
function applyMomentumFromMicroChunks(
  params: readonly Float32Array[],
  weights: readonly number[],
  grads: readonly Float32Array[],
  lr: number,
  next: Float32Array[],
  { sgd, velocity }: OptimizerState,
  acc?: Float64Array,
): void {
  let total = 0;
  for (const p of params) total += p.length;
  if (weights.length === 0) throw new RangeError('sgdFromMicroChunks: no micro-chunks');
  const sum = acc && acc.length >= total ? acc : new Float64Array(total);
  for (let k = 0; k < weights.length; k++) accumulate(sum, grads[k]!, weights[k]!, total, k === 0);
  let off = 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const out = next[i]!;
    for (let j = 0; j < p.length; j++) out[j] = sgdMomentumUpdate(p[j]!, sum[off + j]!, lr, sgd, velocity, off + j);
    off += p.length;
  }
}

/**
 * next[i][j] = fround(params[i][j] − lr·Σ_k weights[k]·grads[k][off_i + j]), the sum in float64 in
 * order k = 0, 1, … (`next` may alias `params`: each element is read before it is written).
 * `acc`: float64 scratch of at least Σ params[i].length (allocated when omitted).
 */
export function applyMicroChunkGradients(
  params: readonly Float32Array[],
  weights: readonly number[],
  grads: readonly Float32Array[],
  lr: number,
  next: Float32Array[],
  acc?: Float64Array,
): void {
  let total = 0;
  for (const p of params) total += p.length;
  const K = weights.length;
  if (K === 0) throw new RangeError('applyMicroChunkGradients: no micro-chunks');
  if (K === 1) {
    let off = 0;
    for (let i = 0; i < params.length; i++) {
      updateOne(params[i]!, next[i]!, grads[0]!, weights[0]!, lr, off);
      off += params[i]!.length;
    }
    return;
  }
  const scratch = K > 2 ? (acc ?? new Float64Array(total)) : EMPTY;
  // Chunk by chunk over all parameters (each gradient streamed once): every parameter's sum
  // still starts at 0 and adds the chunks in order k = 0, 1, …, so the bits equal the
  // per-parameter loop. The last two chunks share one pass, which also applies the update (so a
  // batch of two micro-chunks is one pass, with no scratch).
  for (let k = 0; k < K - 2; k++) accumulate(scratch, grads[k]!, weights[k]!, total, k === 0);
  let off = 0;
  const a = grads[K - 2]!, b = grads[K - 1]!;
  const wa = weights[K - 2]!, wb = weights[K - 1]!;
  for (let i = 0; i < params.length; i++) {
    updateTwo(params[i]!, next[i]!, scratch, a, wa, b, wb, lr, off, K === 2);
    off += params[i]!.length;
  }
}

const EMPTY = new Float64Array(0);

/**
 * params[p] = fround(params[p] − lr·Σ_c grads[c·stride + p]) for p in [p0, p1): `slots` gradient
 * slots of `stride` floats side by side in `grads`, already weighted (plain scales by 1/n in its
 * kernels), summed in slot order in float64. The same bits as applyMicroChunkGradients with unit
 * weights; a strided loop of its own because it is ~2x faster on this layout than views per
 * slot (four parameters at a time: four independent float64 sums, each still in slot order).
 */
export function applyGradientSlots(params: Float32Array, grads: Float32Array, stride: number, slots: number, lr: number, p0: number, p1: number): void {
  let p = p0;
  for (; p + 4 <= p1; p += 4) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let c = 0, o = p; c < slots; c++, o += stride) {
      s0 += grads[o]!; s1 += grads[o + 1]!; s2 += grads[o + 2]!; s3 += grads[o + 3]!;
    }
    params[p] = params[p]! - lr * s0;
    params[p + 1] = params[p + 1]! - lr * s1;
    params[p + 2] = params[p + 2]! - lr * s2;
    params[p + 3] = params[p + 3]! - lr * s3;
  }
  for (; p < p1; p++) {
    let s = 0;
    for (let c = 0, o = p; c < slots; c++, o += stride) s += grads[o]!;
    params[p] = params[p]! - lr * s;
  }
}

/**
 * applyGradientSlots with an optimizer: params[p] = fround(sgdMomentumUpdate(params[p], Σ_c grads[c·stride + p], lr))
 * for p in [p0, p1), the same float64 sum in slot order; `velocity` holds all parameters (index p).
 */
export function applyGradientSlotsMomentum(
  params: Float32Array, grads: Float32Array, stride: number, slots: number, lr: number, p0: number, p1: number,
  sgd: SgdMomentum, velocity: Float64Array,
): void {
  for (let p = p0; p < p1; p++) {
    let s = 0;
    for (let c = 0, o = p; c < slots; c++, o += stride) s += grads[o]!;
    params[p] = sgdMomentumUpdate(params[p]!, s, lr, sgd, velocity, p);
  }
}

/** acc[j] = (first ? 0 : acc[j]) + w·g[j]; functions of their own so V8 optimises the hot loops on their own terms. */
function accumulate(acc: Float64Array, g: Float32Array, w: number, len: number, first: boolean): void {
  if (first) for (let j = 0; j < len; j++) acc[j] = 0 + w * g[j]!;
  else for (let j = 0; j < len; j++) acc[j] = acc[j]! + w * g[j]!;
}

/** out[j] = p[j] − lr·(0 + w·g[off + j]) (one micro-chunk); the Float32Array store rounds once. */
function updateOne(p: Float32Array, out: Float32Array, g: Float32Array, w: number, lr: number, off: number): void {
  const len = p.length;
  for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (0 + w * g[off + j]!);
}

/** out[j] = p[j] − lr·((acc[off + j] + wa·a[off + j]) + wb·b[off + j]) (acc taken as 0 when `first`); the store rounds once. */
function updateTwo(p: Float32Array, out: Float32Array, acc: Float64Array, a: Float32Array, wa: number, b: Float32Array, wb: number, lr: number, off: number, first: boolean): void {
  const len = p.length;
  if (first) for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (0 + wa * a[off + j]! + wb * b[off + j]!);
  else for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (acc[off + j]! + wa * a[off + j]! + wb * b[off + j]!);
}
