import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmConv2DBackpropFilter, registerConvViaConv2DKernels, CONV2D_BACKPROP_FILTER_VIA_CONV2D, CONV2D_BACKPROP_INPUT_VIA_CONV2D } from './dist/index.js';
registerWasmConv2DBackpropFilter(); registerConvViaConv2DKernels('wasm'); registerConvViaConv2DKernels('cpu');
const cases = [
  { x: [5, 28, 28, 1], f: [3, 3, 1, 4], s: 2, pad: [[0,0],[1,1],[1,1],[0,0]] },
  { x: [5, 28, 28, 1], f: [5, 5, 1, 6], s: 1, pad: [[0,0],[2,2],[2,2],[0,0]] },
  { x: [3, 9, 9, 2], f: [3, 3, 2, 3], s: 2, pad: 'valid' },
  { x: [3, 10, 10, 2], f: [3, 3, 2, 3], s: 2, pad: 'valid' },
  { x: [3, 10, 10, 2], f: [3, 3, 2, 3], s: 3, pad: 'same' },
];
function run(backend, c, kernel, seed) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomUniform(c.x, -1, 1, 'float32', seed), f = tf.randomUniform(c.f, -1, 1, 'float32', seed + 1);
    const y = tf.conv2d(x, f, c.s, c.pad);
    const dy = tf.randomUniform(y.shape, -1, 1, 'float32', seed + 2);
    const dW = tf.engine().runKernel(kernel, { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f });
    return dW.dataSync().slice();
  });
}
await tf.setBackend('wasm'); await tf.setBackend('cpu');
for (const c of cases) {
  const ref = run('cpu', c, 'Conv2DBackpropFilter', 1);
  for (const [b, k] of [['wasm', 'Conv2DBackpropFilter'], ['cpu', CONV2D_BACKPROP_FILTER_VIA_CONV2D]]) {
    const got = run(b, c, k, 1);
    let m = 0; for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i] - got[i]));
    console.log(JSON.stringify(c.f), c.s, JSON.stringify(c.pad), b, k, 'maxdiff', m.toExponential(2));
  }
}
