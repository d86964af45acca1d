import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
await tf.setBackend(process.argv[2] ?? 'wasm');
const b = tf.randomUniform([400, 120]); const s = tf.scalar(0.1); const c = tf.randomUniform([400, 120]);
for (const [name, fn] of [['mul scalar', () => tf.mul(b, s)], ['mul same', () => tf.mul(b, c)], ['add same', () => tf.add(b, c)], ['matmul', () => tf.matMul(tf.randomUniform([128, 400]), b)]]) {
  for (let i = 0; i < 20; i++) fn().dispose();
  const t0 = performance.now(); for (let i = 0; i < 200; i++) fn().dispose(); console.log(name, ((performance.now() - t0) / 200).toFixed(3), 'ms');
}
