import * as tf from '@tensorflow/tfjs-core';
import { createTfjsWasmBackend, createTfjsCpuBackend, TfjsNetwork } from './dist/index.js';
import { getPreset, initWeights } from '@lenet/model';
const [which, n, ...kv] = process.argv.slice(2);
const gk = { filterGrad: 'conv2d', inputGrad: 'conv2d', maxPoolGrad: 'composite', avgPoolGrad: 'native', ...Object.fromEntries(kv.map((s) => s.split('='))) };
const backend = which === 'wasm' ? createTfjsWasmBackend() : createTfjsCpuBackend();
await backend.available();
const spec = getPreset(process.env.MODEL ?? 'lenet5');
const net = new TfjsNetwork(spec, initWeights(spec, 0), gk);
const N = +n; const x = new Float32Array(N * 784).map((_, i) => (i * 7919 % 255) / 255); const y = new Int32Array(N).map((_, i) => i % 10);
for (let i = 0; i < 3; i++) net.trainStepTensor(x, y, N, 0.1).dispose();
const agg = new Map();
for (let r = 0; r < 5; r++) {
  const info = await tf.profile(() => { net.trainStepTensor(x, y, N, 0.1).dispose(); });
  for (const k of info.kernels) { const key = k.name + ' ' + JSON.stringify(k.inputShapes); agg.set(key, (agg.get(key) ?? 0) + (await k.kernelTimeMs) / 5); }
}
const rows = [...agg].sort((a, b) => b[1] - a[1]); let tot = 0; for (const [, v] of rows) tot += v;
console.log('total kernel ms', tot.toFixed(1));
for (const [k, v] of rows.slice(0, 25)) console.log(v.toFixed(2).padStart(8), k);
