import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { LayerSpec, ModelSpec, Weights } from '@lenet/model';
import { getPreset, inferShapes, initWeights, paramInfos, validateSpec } from '@lenet/model';
import {
  lossAndGradients64,
  opBackward,
  opForward,
  planReference,
  referenceForward,
  referenceLossAndGradients,
  referenceSgdStep,
} from '../src/reference.js';
import type { Params64, RefOp } from '../src/reference.js';
import { CONFORMANCE_VARIANT, randomImages, randomLabels, seededUniform } from '../src/testdata.js';

function randomParams(spec: ModelSpec, seed: number, scale = 0.6): Params64 {
  const next = seededUniform(seed);
  const p: Params64 = new Map();
  for (const info of paramInfos(spec)) {
    const size = info.shape.reduce((a, b) => a * b, 1);
    p.set(info.name, Float64Array.from({ length: size }, () => (next() * 2 - 1) * scale));
  }
  return p;
}

/**
 * Central finite differences of the mean loss for every parameter element, compared with the
 * analytic gradient: |analytic - numeric| <= 1e-6 + 1e-5 * |numeric|.
 */
function gradientCheck(spec: ModelSpec, seed: number, n = 3): number {
  const plan = planReference(spec);
  const params = randomParams(spec, seed);
  const x = Float64Array.from(randomImages(seed + 1, n, plan.inputSize));
  const y = randomLabels(seed + 2, n, plan.classes);
  const { grads } = lossAndGradients64(plan, params, x, y, n);
  const h = 1e-5;
  let checked = 0;
  for (const [name, w] of params) {
    const g = grads.get(name)!;
    for (let i = 0; i < w.length; i++) {
      const orig = w[i]!;
      w[i] = orig + h;
      const up = lossAndGradients64(plan, params, x, y, n).loss;
      w[i] = orig - h;
      const down = lossAndGradients64(plan, params, x, y, n).loss;
      w[i] = orig;
      const numeric = (up - down) / (2 * h);
      const diff = Math.abs(g[i]! - numeric);
      if (!(diff <= 1e-6 + 1e-5 * Math.abs(numeric))) {
        throw new Error(`${spec.name}: d loss / d ${name}[${i}] analytic ${g[i]} vs numeric ${numeric}`);
      }
      checked++;
    }
  }
  return checked;
}

const conv = (outChannels: number, kernelSize: number, stride = 1, padding = 0): LayerSpec => ({
  type: 'conv2d', outChannels, kernelSize, stride, padding,
});
const act = (fn: 'sigmoid' | 'relu' | 'tanh'): LayerSpec => ({ type: 'activation', fn });
const pool = (mode: 'avg' | 'max', kernelSize: number, stride?: number): LayerSpec =>
  stride === undefined ? { type: 'pool2d', mode, kernelSize } : { type: 'pool2d', mode, kernelSize, stride };
const flatten: LayerSpec = { type: 'flatten' };
const dense = (units: number): LayerSpec => ({ type: 'dense', units });

const GRADIENT_SPECS: ModelSpec[] = [
  { name: 'stride2-pad1-sigmoid-maxpool', inputShape: [1, 7, 7], layers: [conv(3, 3, 2, 1), act('sigmoid'), pool('max', 2), flatten, dense(5), act('tanh'), dense(4)] },
  { name: 'two-conv-relu-avg-tanh-overlapping-max', inputShape: [2, 8, 8], layers: [conv(4, 3), act('relu'), pool('avg', 2), conv(3, 2, 1, 1), act('tanh'), pool('max', 3, 1), flatten, dense(3)] },
  { name: 'pad2-tanh-avg3', inputShape: [1, 6, 6], layers: [conv(2, 5, 1, 2), act('tanh'), pool('avg', 3), flatten, dense(6), act('relu'), dense(6), act('sigmoid'), dense(3)] },
  { name: 'stride3-pad2-k4-relu-max-stride1', inputShape: [1, 9, 9], layers: [conv(2, 4, 3, 2), act('relu'), pool('max', 2, 1), flatten, dense(3)] },
  { name: 'dense-only', inputShape: [1, 3, 3], layers: [flatten, dense(4), act('sigmoid'), dense(2)] },
];

describe('reference gradients (finite differences, float64)', () => {
  for (const [i, spec] of GRADIENT_SPECS.entries()) {
    it(`matches central differences: ${spec.name}`, () => {
      validateSpec(spec);
      expect(gradientCheck(spec, 1000 + 17 * i)).toBe(paramInfos(spec).reduce((s, p) => s + p.shape.reduce((a, b) => a * b, 1), 0));
    });
  }

  it('matches central differences on random small specs (property)', () => {
    const layerArb = fc.record({
      c: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 4, max: 8 }),
      out: fc.integer({ min: 1, max: 3 }),
      k: fc.integer({ min: 1, max: 4 }),
      s: fc.integer({ min: 1, max: 3 }),
      p: fc.integer({ min: 0, max: 2 }),
      fn: fc.constantFrom('sigmoid' as const, 'relu' as const, 'tanh' as const),
      pool: fc.option(fc.record({ mode: fc.constantFrom('avg' as const, 'max' as const), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }) })),
      hidden: fc.option(fc.integer({ min: 2, max: 5 })),
      classes: fc.integer({ min: 2, max: 4 }),
    });
    let tried = 0;
    fc.assert(
      fc.property(layerArb, fc.integer({ min: 0, max: 1e6 }), (r, seed) => {
        const layers: LayerSpec[] = [conv(r.out, r.k, r.s, r.p), act(r.fn)];
        if (r.pool) layers.push(pool(r.pool.mode, r.pool.k, r.pool.s));
        layers.push(flatten);
        if (r.hidden !== null) layers.push(dense(r.hidden), act(r.fn));
        layers.push(dense(r.classes));
        const spec: ModelSpec = { name: 'random', inputShape: [r.c, r.h, r.h], layers };
        try {
          validateSpec(spec);
        } catch {
          fc.pre(false); // shapes that do not fit (kernel larger than the padded input, ...)
        }
        tried++;
        gradientCheck(spec, seed, 2);
      }),
      { numRuns: 25, seed: 3 },
    );
    expect(tried).toBeGreaterThan(10);
  });
});

describe('reference forward, hand-computed', () => {
  const w = (entries: [string, number[], number[]][]): Weights =>
    new Map(entries.map(([name, shape, data]) => [name, { shape, data: Float32Array.from(data) }]));

  it('conv2d with stride 2 and padding 1 (cross-correlation, zero padding)', () => {
    // input 1x3x3 = 1..9, kernel 2x2 [[1,2],[3,4]], bias 0.5, stride 2, pad 1 -> 2x2 output
    const spec: ModelSpec = { name: 'c', inputShape: [1, 3, 3], layers: [conv(1, 2, 2, 1), flatten, dense(1)] };
    const weights = w([
      ['conv1.weight', [1, 1, 2, 2], [1, 2, 3, 4]],
      ['conv1.bias', [1], [0.5]],
      ['fc1.weight', [1, 4], [1, 10, 100, 1000]],
      ['fc1.bias', [1], [0]],
    ]);
    // padded input rows: [0 0 0 0 0],[0 1 2 3 0],[0 4 5 6 0],[0 7 8 9 0],[0 0 0 0 0]
    // out(0,0)= 4*1 = 4 ; out(0,1)= 3*2+4*3 = 18 ; out(1,0) = 2*4+4*7 = 36 ; out(1,1) = 1*5+2*6+3*8+4*9 = 77
    const conv1 = [4.5, 18.5, 36.5, 77.5];
    const want = conv1[0]! + 10 * conv1[1]! + 100 * conv1[2]! + 1000 * conv1[3]!;
    expect([...referenceForward(spec, weights, Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]), 1)]).toEqual([want]);
  });

  it('pools (no padding), activations and dense', () => {
    const spec = (layers: LayerSpec[]): ModelSpec => ({ name: 'p', inputShape: [1, 3, 3], layers: [...layers, flatten, dense(1)] });
    const x = Float32Array.from([1, -2, 3, -4, 5, -6, 7, -8, 0]);
    const sumNet = (size: number) =>
      w([['fc1.weight', [1, size], new Array(size).fill(1).map((_, i) => 10 ** i)], ['fc1.bias', [1], [0.25]]]);
    // max k2 s1 -> 2x2: max(1,-2,-4,5)=5, max(-2,3,5,-6)=5, max(-4,5,7,-8)=7, max(5,-6,-8,0)=5
    expect(referenceForward(spec([pool('max', 2, 1)]), sumNet(4), x, 1)[0]).toBeCloseTo(5 + 50 + 700 + 5000 + 0.25, 9);
    // avg k2 (stride 2) on 3x3 -> 1x1: (1-2-4+5)/4 = 0
    expect(referenceForward(spec([pool('avg', 2)]), sumNet(1), x, 1)[0]).toBeCloseTo(0.25, 12);
    // relu with relu(0) = 0, tanh, sigmoid
    const ones = w([['fc1.weight', [1, 9], new Array(9).fill(1)], ['fc1.bias', [1], [0]]]);
    expect(referenceForward(spec([act('relu')]), ones, x, 1)[0]).toBe(16);
    const tanhSum = [...x].reduce((s, v) => s + Math.tanh(v), 0);
    expect(referenceForward(spec([act('tanh')]), ones, x, 1)[0]).toBeCloseTo(tanhSum, 12);
    const sigSum = [...x].reduce((s, v) => s + 1 / (1 + Math.exp(-v)), 0);
    expect(referenceForward(spec([act('sigmoid')]), ones, x, 1)[0]).toBeCloseTo(sigSum, 12);
  });

  it('max pool routes the gradient to the first maximum in scan order; avg spreads it', () => {
    const op = (mode: 'avg' | 'max', k: number, stride: number, h: number, w: number): RefOp => ({
      kind: 'pool2d', index: 0, mode, c: 1, inH: h, inW: w,
      outH: Math.floor((h - k) / stride) + 1, outW: Math.floor((w - k) / stride) + 1, k, stride,
    });
    const back = (o: RefOp, input: number[], dOut: number[]) => {
      const x = Float64Array.from(input);
      const y = opForward(o, new Map(), x);
      return [...opBackward(o, new Map(), new Map(), x, y, Float64Array.from(dOut))];
    };
    expect(back(op('max', 2, 2, 2, 2), [1, 5, 5, 2], [1])).toEqual([0, 1, 0, 0]);
    expect(back(op('max', 2, 2, 2, 2), [7, 7, 7, 7], [1])).toEqual([1, 0, 0, 0]);
    expect(back(op('max', 2, 2, 2, 2), [-3, -1, -2, -1], [2])).toEqual([0, 2, 0, 0]);
    // k1: every input is its own window
    expect(back(op('max', 1, 1, 1, 3), [1, 9, 2], [1, 2, 3])).toEqual([1, 2, 3]);
    // overlapping windows (k2 s1 on 2x3): both windows pick the first 9 (row 0), gradients add up
    expect(back(op('max', 2, 1, 2, 3), [1, 9, 2, 0, 9, 1], [1, 2])).toEqual([0, 3, 0, 0, 0, 0]);
    expect(back(op('avg', 2, 2, 2, 2), [1, 5, 5, 2], [1])).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it('relu passes no gradient at exactly 0', () => {
    const o: RefOp = { kind: 'activation', index: 0, fn: 'relu', size: 3 };
    const x = Float64Array.of(-1, 0, 2);
    const dIn = opBackward(o, new Map(), new Map(), x, opForward(o, new Map(), x), Float64Array.of(1, 1, 1));
    expect([...dIn]).toEqual([0, 0, 1]);
  });

  it('uses only the first n images, rejects bad n', () => {
    const spec = CONFORMANCE_VARIANT;
    const weights = initWeights(spec, 3);
    const x = randomImages(5, 2, 784);
    const padded = new Float32Array(3 * 784).fill(Number.NaN);
    padded.set(x);
    expect(referenceForward(spec, weights, padded, 2)).toEqual(referenceForward(spec, weights, x, 2));
    expect(() => referenceForward(spec, weights, x, 3)).toThrow(/x has 1568 values, need n\*inputSize = 2352/);
    expect(() => referenceForward(spec, weights, x, 0)).toThrow(/n must be a positive integer/);
  });

  it('rejects weights that do not match the spec (WeightsError naming the param)', () => {
    const spec = getPreset('lenet5');
    const weights = initWeights(spec, 0);
    weights.delete('fc3.bias');
    expect(() => referenceForward(spec, weights, new Float32Array(784), 1)).toThrow(/fc3\.bias/);
  });
});

describe('reference SGD step', () => {
  it('returns fround(w - lr*g) with g from referenceLossAndGradients, in canonical order', () => {
    const spec = CONFORMANCE_VARIANT;
    const weights = initWeights(spec, 11);
    const x = randomImages(12, 3, 784);
    const y = randomLabels(13, 3, 10);
    const { loss, grads } = referenceLossAndGradients(spec, weights, x, y, 3);
    const step = referenceSgdStep(spec, weights, x, y, 3, 0.25);
    expect(step.loss).toBe(loss);
    expect([...step.weights.keys()]).toEqual(paramInfos(spec).map((p) => p.name));
    for (const [name, t] of step.weights) {
      const w0 = weights.get(name)!.data;
      const g = grads.get(name)!;
      for (let i = 0; i < w0.length; i++) expect(t.data[i]).toBe(Math.fround(w0[i]! - 0.25 * g[i]!));
      expect(t.shape).toEqual(weights.get(name)!.shape);
    }
    // the input weights are not modified
    expect(weights.get('conv1.weight')!.data).toEqual(initWeights(spec, 11).get('conv1.weight')!.data);
  });

  it('lowers the loss on the batch for a small step', () => {
    const spec = getPreset('lenet5-modern');
    const weights = initWeights(spec, 1);
    const x = randomImages(2, 4, 784);
    const y = randomLabels(3, 4, 10);
    const s1 = referenceSgdStep(spec, weights, x, y, 4, 0.05);
    const s2 = referenceSgdStep(spec, s1.weights, x, y, 4, 0.05);
    expect(s2.loss).toBeLessThan(s1.loss);
  });
});

describe('reference plan agrees with @lenet/model shape inference', () => {
  for (const spec of [getPreset('lenet5'), getPreset('lenet5-modern'), CONFORMANCE_VARIANT, ...GRADIENT_SPECS]) {
    it(spec.name, () => {
      const plan = planReference(spec);
      const infos = inferShapes(spec);
      plan.ops.forEach((op, i) => {
        const size = infos[i]!.outputShape.reduce((a, b) => a * b, 1);
        const opSize =
          op.kind === 'conv2d' ? op.outC * op.outH * op.outW
          : op.kind === 'pool2d' ? op.c * op.outH * op.outW
          : op.kind === 'dense' ? op.units
          : op.size;
        expect(opSize, `layer ${i} (${op.kind})`).toBe(size);
      });
    });
  }
});
