import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerConvViaConv2DKernels } from './dist/index.js';
await tf.setBackend('wasm'); registerConvViaConv2DKernels('wasm');
function time(name, fn, reps = 15) { for (let i = 0; i < 2; i++) tf.tidy(() => { fn().dataSync(); }); const t = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); tf.tidy(() => { fn().dataSync(); }); t.push(performance.now() - t0); } t.sort((a, b) => a - b); console.log(name.padEnd(50), t[reps >> 1].toFixed(3), 'ms'); }
const x = tf.randomUniform([128, 28, 28, 1]), w = tf.randomUniform([5, 5, 1, 6]), dy = tf.randomUniform([128, 28, 28, 6]);
const pad = [[0,0],[2,2],[2,2],[0,0]];
time('fwd conv1', () => tf.conv2d(x, w, 1, pad));
time('transpose dy [1,2,0,3]', () => tf.transpose(dy, [1, 2, 0, 3]));
time('transpose x [3,1,2,0]', () => tf.transpose(x, [3, 1, 2, 0]));
const xT = tf.transpose(x, [3, 1, 2, 0]), dyT = tf.transpose(dy, [1, 2, 0, 3]);
time('big-filter conv', () => tf.conv2d(xT, dyT, 1, pad));
time('composite total', () => tf.engine().runKernel('LenetConv2DBackpropFilterViaConv2D', { x, dy }, { strides: 1, pad, dataFormat: 'NHWC', filterShape: [5, 5, 1, 6] }));
// im2col via identity-filter conv + matmul
const eye = tf.reshape(tf.eye(25), [5, 5, 1, 25]);
time('patches conv (25 out)', () => tf.conv2d(x, eye, 1, pad));
const patches = tf.reshape(tf.conv2d(x, eye, 1, pad), [-1, 25]), dy2 = tf.reshape(dy, [-1, 6]);
time('transpose patches', () => tf.transpose(patches));
const pT = tf.transpose(patches);
time('matmul pT dy', () => tf.matMul(pT, dy2));
time('im2col total', () => tf.matMul(tf.transpose(tf.reshape(tf.conv2d(x, eye, 1, pad), [-1, 25])), tf.reshape(dy, [-1, 6])));
time('im2col total (dyT matmul patches)', () => tf.matMul(tf.transpose(tf.reshape(dy, [-1, 6])), tf.reshape(tf.conv2d(x, eye, 1, pad), [-1, 25])));
