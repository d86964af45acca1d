import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
await tf.setBackend('wasm');
const b = tf.randomUniform([400, 120]); const s = tf.scalar(0.1); const tiny = tf.scalar(1);
let t0 = performance.now(); for (let i = 0; i < 50; i++) tiny.dataSync(); console.log('dataSync scalar', ((performance.now() - t0) / 50).toFixed(3));
t0 = performance.now(); for (let i = 0; i < 50; i++) b.dataSync(); console.log('dataSync 48k', ((performance.now() - t0) / 50).toFixed(3));
t0 = performance.now(); for (let i = 0; i < 50; i++) { const r = tf.mul(b, s); r.dataSync(); r.dispose(); } console.log('mul+dataSync', ((performance.now() - t0) / 50).toFixed(3));
t0 = performance.now(); for (let i = 0; i < 50; i++) { const r = tf.mul(b, s); await r.data(); r.dispose(); } console.log('mul+data', ((performance.now() - t0) / 50).toFixed(3));
t0 = performance.now(); for (let i = 0; i < 50; i++) { tf.tidy(() => tf.mul(b, s).dataSync()); } console.log('tidy mul dataSync', ((performance.now() - t0) / 50).toFixed(3));
