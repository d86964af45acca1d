import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
function time(name, fn, reps = 9) { for (let i = 0; i < 2; i++) tf.tidy(() => { fn().dataSync(); }); const t = []; for (let i = 0; i < reps; i++) { const t0 = performance.now(); tf.tidy(() => { fn().dataSync(); }); t.push(performance.now() - t0); } t.sort((a, b) => a - b); console.log(name.padEnd(50), t[reps >> 1].toFixed(3), 'ms'); }
const y = tf.randomUniform([128, 28, 28, 6], -1, 1), m = tf.maxPool(y, 2, 2, 'valid');
const x6 = tf.reshape(y, [128, 14, 2, 14, 2, 6]), m6 = tf.reshape(m, [128, 14, 1, 14, 1, 6]);
const pr = tf.tensor([4, 3, 2, 1], [1, 1, 2, 1, 2, 1]);
time('equal bcast', () => tf.equal(x6, m6));
time('cast', () => tf.cast(tf.equal(x6, m6), 'float32'));
const hit = tf.cast(tf.equal(x6, m6), 'float32');
time('mul prio', () => tf.mul(hit, pr));
const sc = tf.mul(hit, pr);
time('max [2,4]', () => tf.max(sc, [2, 4], true));
time('transpose to end + max', () => tf.max(tf.reshape(tf.transpose(sc, [0, 1, 3, 5, 2, 4]), [128, 14, 14, 6, 4]), 4));
time('equal(score,best)', () => tf.equal(sc, tf.max(sc, [2, 4], true)));
time('mul dy bcast', () => tf.mul(hit, m6));
time('maxPool(score)', () => tf.maxPool(tf.reshape(sc, [128,28,28,6]), 2, 2, 'valid'));
time('sub bcast', () => tf.sub(x6, m6));
time('sign', () => tf.sign(sc));
time('add scalar', () => tf.add(sc, 1));
time('pipeline sign', () => {
  const hit = tf.add(tf.sign(tf.sub(x6, m6)), 1);
  const score = tf.mul(hit, pr);
  const best = tf.reshape(tf.maxPool(tf.reshape(score, [128, 28, 28, 6]), 2, 2, 'valid'), [128, 14, 1, 14, 1, 6]);
  const first = tf.add(tf.sign(tf.sub(score, best)), 1);
  return tf.reshape(tf.mul(first, m6), [128, 28, 28, 6]);
});
time('transpose k-first', () => tf.transpose(x6, [2, 4, 0, 1, 3, 5]));
