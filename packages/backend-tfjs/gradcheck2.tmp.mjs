import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
const LO = +process.argv[2];
await tf.setBackend('wasm'); await tf.setBackend('cpu');
function run(backend, xs, k, s, mode) {
  tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomUniform(xs, LO, 1, 'float32', 3);
    const y = mode === 'max' ? tf.maxPool(x, k, s, 'valid') : tf.avgPool(x, k, s, 'valid');
    const dy = tf.randomUniform(y.shape, -1, 1, 'float32', 4);
    const attrs = { filterSize: [k, k], strides: [s, s], pad: 'valid' };
    const dx = mode === 'max' ? tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, attrs) : tf.engine().runKernel('AvgPoolGrad', { dy, input: x }, attrs);
    return dx.dataSync().slice();
  });
}
for (const [xs, k, s] of [[[5, 14, 14, 4], 3, 2], [[5, 14, 14, 4], 2, 2], [[2, 9, 9, 3], 3, 1], [[2,8,8,3],2,1]]) for (const mode of ['max', 'avg']) {
  const a = run('cpu', xs, k, s, mode), b = run('wasm', xs, k, s, mode);
  let m = 0, at = -1; for (let i = 0; i < a.length; i++) { const d = Math.abs(a[i] - b[i]); if (d > m) { m = d; at = i; } }
  console.log(mode, JSON.stringify(xs), k, s, 'maxdiff', m.toExponential(2), 'at', at);
}
