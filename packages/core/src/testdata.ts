/**
 * Deterministic inputs for the conformance suite and tests: seeded uniform numbers, random
 * images in [0, 1], non-zero biases, and a tiny separable image set to learn.
 */
import type { ModelSpec, Weights } from '@lenet/model';
import { initWeights, paramInfos } from '@lenet/model';

/**
 * mulberry32: a small 32-bit seeded generator, returning floats in [0, 1). Used only to make
 * test inputs reproducible on every platform (integer ops only, so bit-identical everywhere);
 * model initialisation uses @lenet/model's pure-rand based initWeights.
 */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n images of `size` values each, uniform in [0, 1], as float32. */
export function randomImages(seed: number, n: number, size: number): Float32Array {
  const next = seededUniform(seed);
  const x = new Float32Array(n * size);
  for (let i = 0; i < x.length; i++) x[i] = next();
  return x;
}

/** n labels uniform in [0, classes). */
export function randomLabels(seed: number, n: number, classes: number): Int32Array {
  const next = seededUniform(seed);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = Math.floor(next() * classes);
  return y;
}

/**
 * initWeights(spec, seed) with the (zero) biases replaced by uniform values in [-0.2, 0.2], so
 * that comparisons also exercise every bias.
 */
export function conformanceWeights(spec: ModelSpec, seed: number): Weights {
  const w = initWeights(spec, seed);
  const next = seededUniform(seed ^ 0x5bd1e995);
  for (const p of paramInfos(spec)) {
    if (p.kind !== 'bias') continue;
    const data = w.get(p.name)!.data;
    for (let i = 0; i < data.length; i++) data[i] = (next() - 0.5) * 0.4;
  }
  return w;
}

/**
 * A custom LeNet variant exercising what the presets do not: strided and padded 3x3
 * convolution, tanh, overlapping max pooling (k3 s2), avg pooling after ReLU, other dense sizes.
 */
export const CONFORMANCE_VARIANT: ModelSpec = {
  name: 'conformance-variant',
  inputShape: [1, 28, 28],
  layers: [
    { type: 'conv2d', outChannels: 4, kernelSize: 3, stride: 2, padding: 1 }, // 4x14x14
    { type: 'activation', fn: 'tanh' },
    { type: 'pool2d', mode: 'max', kernelSize: 3, stride: 2 }, // 4x6x6
    { type: 'conv2d', outChannels: 8, kernelSize: 3 }, // 8x4x4
    { type: 'activation', fn: 'relu' },
    { type: 'pool2d', mode: 'avg', kernelSize: 2 }, // 8x2x2
    { type: 'flatten' },
    { type: 'dense', units: 24 },
    { type: 'activation', fn: 'sigmoid' },
    { type: 'dense', units: 10 },
  ],
};

/** Labels used by the tiny learning set (spread over the 10 outputs). */
export const LEARN_LABELS = [1, 4, 6, 9] as const;

/**
 * A tiny, clearly separable set: `perClass` 28x28 images for each of 4 classes. Class k is a
 * bright 10x10 square in quadrant k (with a seeded jitter of up to 3 pixels) on a dim noisy
 * background. Labels are LEARN_LABELS[k]; samples are interleaved (class 0, 1, 2, 3, 0, ...).
 */
export function learnSet(perClass = 8, seed = 7): { x: Float32Array; y: Int32Array; n: number } {
  const next = seededUniform(seed);
  const n = perClass * LEARN_LABELS.length;
  const x = new Float32Array(n * 784);
  const y = new Int32Array(n);
  for (let s = 0; s < n; s++) {
    const k = s % LEARN_LABELS.length;
    y[s] = LEARN_LABELS[k]!;
    const top = (k < 2 ? 2 : 16) + Math.floor(next() * 4);
    const left = (k % 2 === 0 ? 2 : 16) + Math.floor(next() * 4);
    const img = x.subarray(s * 784, (s + 1) * 784);
    for (let i = 0; i < 784; i++) img[i] = next() * 0.2;
    for (let r = top; r < top + 10; r++) {
      for (let c = left; c < left + 10; c++) img[r * 28 + c] = 0.8 + next() * 0.2;
    }
  }
  return { x, y, n };
}
