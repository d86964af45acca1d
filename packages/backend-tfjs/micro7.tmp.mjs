import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
function time(name, fn, reps = 15) { for (let i = 0; i < 2; i++) tf.tidy(() => { fn().dataSync(); }); const t = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); tf.tidy(() => { fn().dataSync(); }); t.push(performance.now() - t0); } t.sort((a, b) => a - b); console.log(name.padEnd(50), t[reps >> 1].toFixed(3), 'ms'); }
const dy = tf.randomUniform([128, 28, 28, 6]);
time('sum [0,1,2]', () => tf.sum(dy, [0, 1, 2]));
time('matMul ones', () => tf.reshape(tf.matMul(tf.ones([1, 128 * 784]), tf.reshape(dy, [-1, 6])), [6]));
time('sum reshape axis0', () => tf.sum(tf.reshape(dy, [-1, 6]), 0));
time('mul same', () => tf.mul(dy, dy));
