import { describe, expect, it } from 'vitest';
import { CONFORMANCE_VARIANT, assertClose, randomImages, randomLabels, referenceLossAndGradients, referenceSgdStep } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { getPreset, initWeights, inputSize, numClasses, paramInfos } from '@lenet/model';
import { buildTrainingGraph, gradName, nchwcBlockSize, nextName } from '../src/index.js';
import type { TrainingGraphOptions } from '../src/index.js';
import { ort, session } from './helpers.js';

/** Strided conv and pooling whose windows do not cover the last row/column (floor). */
const FLOOR_SPEC: ModelSpec = {
  name: 'floor',
  inputShape: [2, 13, 13],
  layers: [
    { type: 'conv2d', outChannels: 3, kernelSize: 4, stride: 2 }, // 3x5x5, input row 12 unused
    { type: 'activation', fn: 'tanh' },
    { type: 'pool2d', mode: 'max', kernelSize: 2 }, // 3x2x2, row 4 unused
    { type: 'flatten' },
    { type: 'dense', units: 4 },
  ],
};

const AVG_OVERLAP: ModelSpec = {
  name: 'avg-overlap',
  inputShape: [1, 11, 11],
  layers: [
    { type: 'conv2d', outChannels: 2, kernelSize: 3, padding: 1 },
    { type: 'activation', fn: 'sigmoid' },
    { type: 'pool2d', mode: 'avg', kernelSize: 3, stride: 2 }, // 2x5x5
    { type: 'flatten' },
    { type: 'dense', units: 6 },
    { type: 'activation', fn: 'relu' },
    { type: 'dense', units: 3 },
  ],
};

/** relu -> max pool 3/3 on 10x10 (row/column 9 uncovered) and max pool 2 with stride 3 (gaps). */
const ODD_POOLS: ModelSpec = {
  name: 'odd-pools',
  inputShape: [2, 12, 12],
  layers: [
    { type: 'conv2d', outChannels: 3, kernelSize: 3 }, // 3x10x10
    { type: 'activation', fn: 'relu' },
    { type: 'pool2d', mode: 'max', kernelSize: 3 }, // 3x3x3, tiled with a crop
    { type: 'conv2d', outChannels: 4, kernelSize: 1 }, // 4x3x3
    { type: 'activation', fn: 'relu' },
    { type: 'pool2d', mode: 'max', kernelSize: 1, stride: 2 }, // 4x2x2, stride > kernel
    { type: 'flatten' },
    { type: 'dense', units: 5 },
  ],
};

async function runStep(spec: ModelSpec, weights: Weights, x: Float32Array, y: Int32Array, n: number, lr: number, options: TrainingGraphOptions = {}) {
  const graph = buildTrainingGraph(spec, { ...options, gradients: true });
  const s = await session(graph.bytes);
  try {
    const [c, h, w] = spec.inputShape;
    const feeds: Record<string, ort.Tensor> = {
      input: new ort.Tensor('float32', x, [n, c, h, w]),
      labels: new ort.Tensor('int32', y, [n]),
      lr: new ort.Tensor('float32', Float32Array.of(lr), []),
    };
    for (const p of paramInfos(spec)) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!.data, p.shape);
    const out = await s.run(feeds);
    expect(graph.outputNames).toEqual(['loss', ...graph.params.map(nextName), ...graph.params.map(gradName)]);
    return out;
  } finally {
    await s.release();
  }
}

/** One SGD step of the training graph (batch 6, lr 0.5, non-zero biases) against the float64 reference. */
async function expectReferenceStep(spec: ModelSpec, images: 'random' | 'constant', options: TrainingGraphOptions = {}): Promise<void> {
  const n = 6;
  const lr = 0.5;
  const weights = initWeights(spec, 9);
  // Non-zero biases so that the bias paths are exercised in the forward pass too.
  for (const p of paramInfos(spec)) if (p.kind === 'bias') weights.get(p.name)!.data.forEach((_, i, a) => (a[i] = 0.05 * Math.sin(i + 1)));
  const x = images === 'random' ? randomImages(21, n, inputSize(spec)) : new Float32Array(n * inputSize(spec)).fill(0.5);
  const y = randomLabels(22, n, numClasses(spec));
  const out = await runStep(spec, weights, x, y, n, lr, options);
  const ref = referenceLossAndGradients(spec, weights, x, y, n);
  const step = referenceSgdStep(spec, weights, x, y, n, lr);
  expect(Math.abs((out.loss.data as Float32Array)[0] - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
  for (const p of paramInfos(spec)) {
    const grad = ref.grads.get(p.name)!;
    const scale = grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assertClose(`${spec.name} ${p.name} gradient`, out[gradName(p.name)].data as Float32Array, grad, { atol: 1e-5 * Math.max(scale, 1e-3), rtol: 1e-3 });
    assertClose(`${spec.name} ${p.name} after SGD`, out[nextName(p.name)].data as Float32Array, step.weights.get(p.name)!.data, { atol: 1e-6, rtol: 1e-5 });
  }
}

describe('gradients-only training graph (the data-parallel chunk graph)', () => {
  it('has no lr input and outputs the loss and the gradients of the float64 reference', async () => {
    const spec = getPreset('lenet5-modern');
    const graph = buildTrainingGraph(spec, { gradientsOnly: true });
    expect(graph.inputNames).toEqual(['input', 'labels', ...graph.params]);
    expect(graph.outputNames).toEqual(['loss', ...graph.params.map(gradName)]);
    const n = 5;
    const weights = initWeights(spec, 4);
    const x = randomImages(11, n, inputSize(spec));
    const y = randomLabels(12, n, numClasses(spec));
    const s = await session(graph.bytes);
    try {
      const feeds: Record<string, ort.Tensor> = { input: new ort.Tensor('float32', x, [n, 1, 28, 28]), labels: new ort.Tensor('int32', y, [n]) };
      for (const p of paramInfos(spec)) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!.data, p.shape);
      const out = await s.run(feeds);
      const ref = referenceLossAndGradients(spec, weights, x, y, n);
      expect(Math.abs((out.loss.data as Float32Array)[0] - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
      for (const p of paramInfos(spec)) {
        const grad = ref.grads.get(p.name)!;
        const scale = grad.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        assertClose(`${p.name} gradient`, out[gradName(p.name)].data as Float32Array, grad, { atol: 1e-5 * Math.max(scale, 1e-3), rtol: 1e-3 });
      }
    } finally {
      await s.release();
    }
  });
});

describe('training-step graph: gradients and SGD update equal the float64 reference', () => {
  const cases: [string, ModelSpec, 'random' | 'constant'][] = [
    ['lenet5 (sigmoid, avg pool)', getPreset('lenet5'), 'random'],
    ['lenet5-modern (relu, max pool)', getPreset('lenet5-modern'), 'random'],
    ['lenet5-modern on constant images (max-pool ties go to the first maximum)', getPreset('lenet5-modern'), 'constant'],
    ['conformance variant (strided conv, tanh, overlapping max pool)', CONFORMANCE_VARIANT, 'random'],
    ['strided conv and pooling that drop the last row (2 input channels)', FLOOR_SPEC, 'random'],
    ['floor spec on constant images (ties)', FLOOR_SPEC, 'constant'],
    ['overlapping avg pool, relu dense', AVG_OVERLAP, 'random'],
    ['relu -> max pool 3/3 with uncovered rows, max pool with stride > kernel', ODD_POOLS, 'random'],
    ['odd pools on constant images (ties, relu mask on the pooled grid)', ODD_POOLS, 'constant'],
  ];
  for (const [what, spec, images] of cases) it(what, () => expectReferenceStep(spec, images));

  it('max pooling routes tied maxima to the first one in scan order (ties with different patches)', async () => {
    // conv weight [[1,0],[0,0]] copies the top-left pixel, so tied conv outputs come from
    // different 2x2 patches: routing to the wrong tied position changes dW.
    const spec: ModelSpec = {
      name: 'ties',
      inputShape: [1, 9, 9],
      layers: [
        { type: 'conv2d', outChannels: 1, kernelSize: 2 },
        { type: 'pool2d', mode: 'max', kernelSize: 2 },
        { type: 'flatten' },
        { type: 'dense', units: 3 },
      ],
    };
    const weights = initWeights(spec, 3);
    weights.get('conv1.weight')!.data.set([1, 0, 0, 0]);
    const n = 4;
    const x = randomImages(5, n, 81).map((v) => Math.round(v * 2) / 2); // values in {0, 0.5, 1}
    const y = randomLabels(6, n, 3);
    const out = await runStep(spec, weights, x, y, n, 0.1);
    const ref = referenceLossAndGradients(spec, weights, x, y, n);
    assertClose('ties conv1.weight gradient', out['conv1.weight.grad'].data as Float32Array, ref.grads.get('conv1.weight')!, { atol: 1e-6, rtol: 1e-4 });
  });

  it('max pooling ties: 3x3 windows with several tied maxima, ReLU zeros tied at the maximum', async () => {
    // Values in {-0.5, 0, 0.5}; the 2x2 conv copies one corner pixel (+ for channel 0, - for
    // channel 1), so many windows hold 2-9 equal maxima that come from different patches
    // (routing to the wrong one changes dW), and windows whose maximum is relu(<= 0) = 0 must
    // pass no gradient.
    const spec: ModelSpec = {
      name: 'ties3',
      inputShape: [1, 11, 11],
      layers: [
        { type: 'conv2d', outChannels: 2, kernelSize: 2 },
        { type: 'activation', fn: 'relu' },
        { type: 'pool2d', mode: 'max', kernelSize: 3 },
        { type: 'flatten' },
        { type: 'dense', units: 3 },
      ],
    };
    const weights = initWeights(spec, 3);
    weights.get('conv1.weight')!.data.set([1, 0, 0, 0, 0, 0, 0, -1]);
    const n = 5;
    const x = randomImages(7, n, 121).map((v) => Math.round(v * 2) / 2 - 0.5);
    const y = randomLabels(8, n, 3);
    const out = await runStep(spec, weights, x, y, n, 0.1);
    const ref = referenceLossAndGradients(spec, weights, x, y, n);
    for (const name of ['conv1.weight', 'conv1.bias']) {
      assertClose(`ties3 ${name} gradient`, out[gradName(name)].data as Float32Array, ref.grads.get(name)!, { atol: 1e-6, rtol: 1e-4 });
    }
  });

  it('divides by the actual batch size (same session, N = 1, 5, 32)', async () => {
    const spec = getPreset('lenet5');
    const weights = initWeights(spec, 4);
    const graph = buildTrainingGraph(spec);
    const s = await session(graph.bytes);
    try {
      for (const n of [1, 5, 32]) {
        const x = randomImages(n, n, 784);
        const y = randomLabels(n + 1, n, 10);
        const feeds: Record<string, ort.Tensor> = {
          input: new ort.Tensor('float32', x, [n, 1, 28, 28]),
          labels: new ort.Tensor('int32', y, [n]),
          lr: new ort.Tensor('float32', Float32Array.of(1), []),
        };
        for (const p of paramInfos(spec)) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!.data, p.shape);
        const out = await s.run(feeds);
        const ref = referenceSgdStep(spec, weights, x, y, n, 1);
        expect((out.loss.data as Float32Array)[0]).toBeCloseTo(ref.loss, 5);
        assertClose(`fc3.weight after step (n=${n})`, out['fc3.weight.next'].data as Float32Array, ref.weights.get('fc3.weight')!.data, { atol: 1e-6, rtol: 1e-5 });
      }
    } finally {
      await s.release();
    }
  });
});

// ort-node passes the probed NCHWc block size (x86-64 builds of onnxruntime); elsewhere these skip.
const nchwcBlock = await nchwcBlockSize(ort);
// The probe also rejects a wrong filter layout, which would silently skip the block below: on
// x86-64, where onnxruntime-node always has the NCHWc kernels, that must fail instead.
it.runIf(process.arch === 'x64')('the NCHWc probe accepts the training graph on x86-64 (block 8 or 16)', () => {
  expect([8, 16]).toContain(nchwcBlock);
});
describe.skipIf(nchwcBlock === undefined)('training-step graph with NCHWc forward convs (ort-node) equals the float64 reference', () => {
  const block = nchwcBlock ?? 0;
  /** Eligible convs (input channels < block, output channels a multiple of it): strided + padded + tanh, and one without an activation; a non-eligible conv in between. */
  const NCHWC_SPEC: ModelSpec = {
    name: 'nchwc',
    inputShape: [3, 13, 13],
    layers: [
      { type: 'conv2d', outChannels: 2 * block, kernelSize: 3, stride: 2, padding: 1 }, // 2B x 7 x 7
      { type: 'activation', fn: 'tanh' },
      { type: 'conv2d', outChannels: 2, kernelSize: 1 }, // 2B inputs: plain Conv
      { type: 'conv2d', outChannels: block, kernelSize: 2 }, // B x 6 x 6, no activation
      { type: 'pool2d', mode: 'max', kernelSize: 2 },
      { type: 'flatten' },
      { type: 'dense', units: 4 },
    ],
  };
  const cases: [string, ModelSpec, 'random' | 'constant'][] = [
    ['lenet5 (conv2 + sigmoid fused)', getPreset('lenet5'), 'random'],
    ['lenet5-modern (conv2 + relu fused, max pool after)', getPreset('lenet5-modern'), 'random'],
    ['lenet5-modern on constant images (ties)', getPreset('lenet5-modern'), 'constant'],
    ['strided, padded and activation-free NCHWc convs next to a plain one', NCHWC_SPEC, 'random'],
  ];
  for (const [what, spec, images] of cases) it(what, () => expectReferenceStep(spec, images, { nchwcBlock: block }));

  it('uses the com.microsoft.nchwc domain only for eligible convs', () => {
    const text = (bytes: Uint8Array) => new TextDecoder('latin1').decode(bytes);
    expect(text(buildTrainingGraph(getPreset('lenet5'), { nchwcBlock: block }).bytes)).toContain('com.microsoft.nchwc');
    expect(text(buildTrainingGraph(getPreset('lenet5')).bytes)).not.toContain('com.microsoft.nchwc');
    // 3 -> 2 output channels: not a multiple of the block, so the plain graph.
    expect(text(buildTrainingGraph(FLOOR_SPEC, { nchwcBlock: block }).bytes)).not.toContain('com.microsoft.nchwc');
  });
});
