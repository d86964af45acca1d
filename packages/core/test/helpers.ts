/** Shared fixtures for the tests: tiny specs, synthetic splits and scripted sessions. */
import type { ModelSpec, Weights } from '@lenet/model';
import type { ImageSplit } from '@lenet/datasets';
import type { TrainingSession } from '../src/contract.js';
import { seededUniform } from '../src/testdata.js';

/** An 8x8 two-layer conv net with 4 classes: fast enough for training-loop tests. */
export const TINY_SPEC: ModelSpec = {
  name: 'tiny',
  inputShape: [1, 8, 8],
  layers: [
    { type: 'conv2d', outChannels: 3, kernelSize: 3, padding: 1 },
    { type: 'activation', fn: 'relu' },
    { type: 'pool2d', mode: 'max', kernelSize: 2 },
    { type: 'flatten' },
    { type: 'dense', units: 4 },
  ],
};

/**
 * A synthetic 8x8 split with 4 classes: class k has a bright 4x4 block in quadrant k on a
 * noisy background. Deterministic in `seed`.
 */
export function syntheticSplit(count: number, seed: number, split: 'train' | 'test' = 'train'): ImageSplit {
  const next = seededUniform(seed);
  const images = new Uint8Array(count * 64);
  const labels = new Uint8Array(count);
  for (let s = 0; s < count; s++) {
    const k = Math.floor(next() * 4);
    labels[s] = k;
    for (let i = 0; i < 64; i++) images[s * 64 + i] = Math.floor(next() * 60);
    const top = k < 2 ? 0 : 4;
    const left = k % 2 === 0 ? 0 : 4;
    for (let r = top; r < top + 4; r++) for (let c = left; c < left + 4; c++) images[s * 64 + r * 8 + c] = 200 + Math.floor(next() * 55);
  }
  return { dataset: 'mnist', split, count, rows: 8, cols: 8, images, labels, classNames: ['a', 'b', 'c', 'd'] };
}

export interface RecordedStep {
  n: number;
  xLength: number;
  labels: number[];
  firstPixels: number[];
  lr: number;
}

/**
 * A session that records every call and returns scripted losses; predict answers with logits
 * that favour `predictLabel(image)` (default: the brightest quadrant = the synthetic class).
 */
export function scriptedSession(options: {
  losses?: (step: number) => number;
  classes?: number;
  pixels?: number;
  onTrainStep?: (step: number) => void | Promise<void>;
  predictLabel?: (image: Float32Array) => number;
} = {}): TrainingSession & { steps: RecordedStep[]; predictCalls: number[] } {
  const classes = options.classes ?? 4;
  const pixels = options.pixels ?? 64;
  const steps: RecordedStep[] = [];
  const predictCalls: number[] = [];
  const brightestQuadrant = (img: Float32Array): number => {
    const sums = [0, 0, 0, 0];
    for (let r = 0; r < 8; r++) for (let c = 0; c < 8; c++) sums[(r < 4 ? 0 : 2) + (c < 4 ? 0 : 1)]! += img[r * 8 + c]!;
    return sums.indexOf(Math.max(...sums));
  };
  const predictLabel = options.predictLabel ?? brightestQuadrant;
  return {
    steps,
    predictCalls,
    async predict(x, n) {
      predictCalls.push(n);
      const out = new Float32Array(n * classes);
      for (let i = 0; i < n; i++) out[i * classes + predictLabel(x.subarray(i * pixels, (i + 1) * pixels))] = 5;
      return out;
    },
    async trainStep(x, y, n, lr) {
      steps.push({ n, xLength: x.length, labels: [...y.subarray(0, n)], firstPixels: [x[0]!, x[pixels]!], lr });
      await options.onTrainStep?.(steps.length);
      return options.losses ? options.losses(steps.length) : 1 / steps.length;
    },
    async getWeights(): Promise<Weights> {
      return new Map();
    },
    async dispose() {},
  };
}
