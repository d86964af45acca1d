// The gradient kernels this package adds or composes, checked against tfjs-backend-cpu's stock
// kernels (Conv2DBackpropFilter, Conv2DBackpropInput, MaxPoolGrad, AvgPoolGrad) on random data
// for several shapes, strides and paddings. Both TF.js backends live in this one process; each
// computation runs inside tf.tidy on an explicitly selected backend.
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { assertClose, seededUniform } from '@lenet/core';
import {
  CONV2D_BACKPROP_FILTER_VIA_CONV2D,
  CONV2D_BACKPROP_INPUT_VIA_CONV2D,
  registerConvViaConv2DKernels,
  registerWasmConv2DBackpropFilter,
  tfjsWasmBackend,
} from '../src/index.js';
import { inputGradViaConv2DSupported } from '../src/kernels/conv_via_conv2d.js';
import { avgPoolGrad, maxPoolGrad } from '../src/kernels/pool_grads.js';

type Pad = 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
interface ConvCase {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: Pad;
}

const p = (n: number): Pad => [[0, 0], [n, n], [n, n], [0, 0]];
const CONV_CASES: ConvCase[] = [
  { x: [4, 28, 28, 1], filter: [5, 5, 1, 6], stride: 1, pad: p(2) }, // lenet5 conv1
  { x: [4, 14, 14, 6], filter: [5, 5, 6, 16], stride: 1, pad: 'valid' }, // lenet5 conv2
  { x: [3, 28, 28, 1], filter: [3, 3, 1, 4], stride: 2, pad: p(1) },
  { x: [3, 9, 9, 2], filter: [3, 3, 2, 3], stride: 2, pad: 'valid' },
  { x: [3, 10, 10, 2], filter: [3, 3, 2, 3], stride: 2, pad: 'valid' }, // a row the forward pass never reads
  { x: [2, 10, 11, 3], filter: [3, 3, 3, 5], stride: 3, pad: 'same' }, // asymmetric SAME padding
  { x: [2, 8, 8, 3], filter: [3, 3, 3, 4], stride: 1, pad: 'same' },
  { x: [2, 7, 9, 2], filter: [4, 2, 2, 3], stride: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
];

function random(shape: number[], seed: number): tf.Tensor {
  const next = seededUniform(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  return tf.tensor(data, shape, 'float32');
}

/** Runs fn with `backend` active and returns its output values. */
async function on(backend: string, fn: () => tf.Tensor): Promise<Float32Array> {
  await tf.setBackend(backend);
  const out = tf.tidy(fn);
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

const TOL = { atol: 1e-4, rtol: 1e-4 };

beforeAll(async () => {
  // Loads wasm through the package (wasm paths, kernel registration), then makes sure cpu works.
  expect(await tfjsWasmBackend.available()).toBe(true);
  registerConvViaConv2DKernels('cpu');
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('registerWasmConv2DBackpropFilter', () => {
  it('registers once and reports an existing registration', () => {
    expect(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm')).toBeDefined();
    expect(registerWasmConv2DBackpropFilter()).toBe(false);
  });
});

describe.each(CONV_CASES)('conv gradients for x $x, filter $filter, stride $stride, pad $pad', (c) => {
  const attrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
  const inputs = () => {
    const x = random(c.x, 1);
    const w = random(c.filter, 2);
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
    return { x, w, dy: random(y.shape, 3) };
  };

  it('wasm Conv2DBackpropFilter (registered) and the Conv2D composite on cpu match cpu Conv2DBackpropFilter', async () => {
    const filterGrad = (kernel: string) => () => {
      const { x, dy } = inputs();
      return tf.engine().runKernel(kernel, { x, dy }, { ...attrs, filterShape: c.filter }) as tf.Tensor;
    };
    const want = await on('cpu', filterGrad(tf.Conv2DBackpropFilter));
    assertClose('wasm Conv2DBackpropFilter', await on('wasm', filterGrad(tf.Conv2DBackpropFilter)), want, TOL);
    assertClose('cpu composite', await on('cpu', filterGrad(CONV2D_BACKPROP_FILTER_VIA_CONV2D)), want, TOL);
  });

  it('the Conv2D composite input gradient matches cpu Conv2DBackpropInput where it applies', async () => {
    const applies = inputGradViaConv2DSupported(c.x, c.filter, c.stride, c.pad);
    expect(applies).toBe(c.stride === 1);
    if (!applies) return;
    const inputGrad = (kernel: string) => () => {
      const { w, dy } = inputs();
      return tf.engine().runKernel(kernel, { dy, filter: w }, { ...attrs, inputShape: c.x }) as tf.Tensor;
    };
    const want = await on('cpu', inputGrad(tf.Conv2DBackpropInput));
    assertClose('wasm composite', await on('wasm', inputGrad(CONV2D_BACKPROP_INPUT_VIA_CONV2D)), want, TOL);
    assertClose('cpu composite', await on('cpu', inputGrad(CONV2D_BACKPROP_INPUT_VIA_CONV2D)), want, TOL);
  });
});

interface PoolCase {
  x: [number, number, number, number];
  k: number;
  s: number;
}
const POOL_CASES: PoolCase[] = [
  { x: [4, 28, 28, 6], k: 2, s: 2 }, // lenet5 pool1
  { x: [3, 10, 10, 16], k: 2, s: 2 },
  { x: [2, 9, 7, 3], k: 2, s: 2 }, // rows/columns no window covers
  { x: [2, 14, 14, 4], k: 3, s: 2 }, // overlapping
  { x: [2, 8, 8, 3], k: 2, s: 1 },
  { x: [2, 11, 11, 2], k: 2, s: 3 }, // gaps between windows
  { x: [2, 10, 8, 3], k: 3, s: 3 }, // 3x3 windows, a row and two columns no window covers
  { x: [1, 4, 4, 1], k: 4, s: 4 }, // one window
];

describe.each(POOL_CASES)('pool gradients for x $x, window $k, stride $s', ({ x: shape, k, s }) => {
  // Values in [-1, 1): many windows hold only negative values, where tfjs-backend-wasm 4.22's
  // own MaxPoolGrad routes the gradient wrongly.
  const data = () => {
    const x = random(shape, 11) as tf.Tensor4D;
    const y = tf.maxPool(x, k, s, 'valid');
    return { x, y, dy: random(y.shape, 12) as tf.Tensor4D };
  };
  const attrs = { filterSize: [k, k], strides: [s, s], pad: 'valid' };

  it('maxPoolGrad composite on wasm and cpu matches cpu MaxPoolGrad', async () => {
    const want = await on('cpu', () => {
      const { x, y, dy } = data();
      return tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y }, attrs) as tf.Tensor;
    });
    for (const backend of ['wasm', 'cpu']) {
      const got = await on(backend, () => {
        const { x, y, dy } = data();
        return maxPoolGrad(x, y, dy, k, s);
      });
      assertClose(`${backend} maxPoolGrad`, got, want, TOL);
    }
  });

  it('avgPoolGrad composite on wasm and cpu matches cpu AvgPoolGrad', async () => {
    const want = await on('cpu', () => {
      const { x, dy } = data();
      return tf.engine().runKernel(tf.AvgPoolGrad, { dy, input: x }, attrs) as tf.Tensor;
    });
    for (const backend of ['wasm', 'cpu']) {
      const got = await on(backend, () => avgPoolGrad(shape, data().dy, k, s));
      assertClose(`${backend} avgPoolGrad`, got, want, TOL);
    }
  });
});

describe('maxPoolGrad on ReLU-like data', () => {
  // Rounded, half-zero values: ties everywhere, many windows of zeros only, others with ties at a
  // positive maximum; the stock cpu kernel gives each window's gradient to its first maximum.
  it.each([2, 3])('matches cpu MaxPoolGrad for window %i', async (k) => {
    const x = () => tf.relu(tf.round(tf.mul(random([3, 12, 12, 5], 21), 2))) as tf.Tensor4D;
    const dy = () => random([3, 12 / k, 12 / k, 5], 22) as tf.Tensor4D;
    const attrs = { filterSize: [k, k], strides: [k, k], pad: 'valid' };
    const want = await on('cpu', () => {
      const input = x();
      return tf.engine().runKernel(tf.MaxPoolGrad, { dy: dy(), input, output: tf.maxPool(input, k, k, 'valid') }, attrs) as tf.Tensor;
    });
    for (const backend of ['wasm', 'cpu']) {
      const got = await on(backend, () => {
        const input = x();
        return maxPoolGrad(input, tf.maxPool(input, k, k, 'valid'), dy(), k, k);
      });
      expect(Array.from(got), backend).toEqual(Array.from(want));
    }
  });

  // { relu: true } also applies the derivative of the ReLU that produced x (step(x), 0 at 0).
  it.each([
    [2, 2],
    [3, 3],
    [3, 2],
  ])('with relu: true matches cpu MaxPoolGrad times step(x) for window %i, stride %i', async (k, s) => {
    const shape: [number, number, number, number] = [3, 11, 10, 4];
    // Signed values: ReLU-like zeros plus negative windows (not a ReLU output, so step(x) matters).
    const x = () => tf.round(tf.mul(random(shape, 23), 3)) as tf.Tensor4D;
    const pooled = tf.tidy(() => tf.maxPool(x(), k, s, 'valid').shape);
    const dy = () => random(pooled, 24) as tf.Tensor4D;
    const attrs = { filterSize: [k, k], strides: [s, s], pad: 'valid' };
    const want = await on('cpu', () => {
      const input = x();
      const g = tf.engine().runKernel(tf.MaxPoolGrad, { dy: dy(), input, output: tf.maxPool(input, k, s, 'valid') }, attrs) as tf.Tensor;
      return tf.mul(g, tf.step(input));
    });
    for (const backend of ['wasm', 'cpu']) {
      const got = await on(backend, () => {
        const input = x();
        return maxPoolGrad(input, tf.maxPool(input, k, s, 'valid'), dy(), k, s, { relu: true });
      });
      // Within rounding: overlapping windows (s < k) add their shares in another order.
      assertClose(`${backend} maxPoolGrad relu`, got, want, TOL);
    }
  });
});

describe('avgPoolGrad with scale', () => {
  // scale = an activation's derivative: the result must equal scale * (plain avgPoolGrad).
  it.each(POOL_CASES)('matches cpu AvgPoolGrad times scale for x $x, window $k, stride $s', async ({ x: shape, k, s }) => {
    const pooled = tf.tidy(() => tf.avgPool(tf.zeros(shape) as tf.Tensor4D, k, s, 'valid').shape);
    const dy = () => random(pooled, 31) as tf.Tensor4D;
    const scale = () => random(shape, 32) as tf.Tensor4D;
    const want = await on('cpu', () => {
      const g = tf.engine().runKernel(tf.AvgPoolGrad, { dy: dy(), input: tf.zeros(shape) }, { filterSize: [k, k], strides: [s, s], pad: 'valid' }) as tf.Tensor;
      return tf.mul(g, scale());
    });
    for (const backend of ['wasm', 'cpu']) {
      assertClose(`${backend} avgPoolGrad scale`, await on(backend, () => avgPoolGrad(shape, dy(), k, s, scale())), want, TOL);
    }
  });
});

describe('maxPoolGrad ties', () => {
  it('gives the gradient to the first maximum of each window (row-major), like tfjs-backend-cpu', async () => {
    // Two 2x2 windows: all equal (tie of four), and a tie between the last two elements.
    const x = () => tf.tensor4d([5, 5, 1, 3, 5, 5, 2, 3], [1, 2, 4, 1]);
    const run = (backend: string) =>
      on(backend, () => {
        const y = tf.maxPool(x(), 2, 2, 'valid');
        return maxPoolGrad(x(), y, tf.tensor4d([10, 20], [1, 1, 2, 1]), 2, 2);
      });
    // Window 1 covers x[0,0..1] and x[1,0..1] (all 5): its first element wins.
    // Window 2 covers [1, 3, 2, 3]: the first 3 (row 0) wins.
    const want = [10, 0, 0, 20, 0, 0, 0, 0];
    expect(Array.from(await run('wasm'))).toEqual(want);
    expect(Array.from(await run('cpu'))).toEqual(want);
    const stock = await on('cpu', () => {
      const y = tf.maxPool(x(), 2, 2, 'valid');
      return tf.engine().runKernel(
        tf.MaxPoolGrad,
        { dy: tf.tensor4d([10, 20], [1, 1, 2, 1]), input: x(), output: y },
        { filterSize: [2, 2], strides: [2, 2], pad: 'valid' },
      ) as tf.Tensor;
    });
    expect(Array.from(stock)).toEqual(want);
  });
});
