import { createTfjsWasmBackend, createTfjsCpuBackend } from './dist/index.js';
import { getPreset, initWeights } from '@lenet/model';
const [which, n, reps, ...kv] = process.argv.slice(2);
const gk = Object.fromEntries(kv.map((s) => s.split('=')));
const backend = which === 'wasm' ? createTfjsWasmBackend({ gradientKernels: gk }) : createTfjsCpuBackend({ gradientKernels: gk });
const spec = getPreset(process.env.MODEL ?? 'lenet5');
const s = await backend.createSession(spec, initWeights(spec, 0));
const N = +n; const x = new Float32Array(N * 784).map((_, i) => (i * 7919 % 255) / 255); const y = new Int32Array(N).map((_, i) => i % 10);
await s.trainStep(x, y, N, 0.1); await s.trainStep(x, y, N, 0.1);
const times = [];
for (let i = 0; i < +reps; i++) { const t0 = performance.now(); await s.trainStep(x, y, N, 0.1); times.push(performance.now() - t0); }
times.sort((a, b) => a - b); const med = times[times.length >> 1];
const p = []; for (let i = 0; i < 5; i++) { const t0 = performance.now(); await s.predict(x, N); p.push(performance.now() - t0); } p.sort((a,b)=>a-b);
console.log(which, spec.name, JSON.stringify(gk), 'train step median', med.toFixed(1), 'ms =>', (N / med * 1000).toFixed(0), 'img/s; predict', (N / p[2] * 1000).toFixed(0), 'img/s');
