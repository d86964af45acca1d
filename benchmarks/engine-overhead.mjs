#!/usr/bin/env node
// Could plain train on @lenet/parallel-node without losing speed? Interleaved in one process:
// plain's whole lenet5 training step (2 threads, its in-wasm threading, batch 128) and the
// engine's own cost for the same batch with a compute that does nothing (1 worker + this
// thread, plain's 16-sample micro-chunks: copies through the SharedArrayBuffer, Atomics, the
// float64 reduction on this thread). If the engine alone costs a large share of plain's step,
// moving plain onto it would cost that share of speed.
//   node engine-overhead.mjs [--windows 20] [--steps 10] [--micro 16]
import { cpus, loadavg } from 'node:os';
import { DataParallelEngine } from '@lenet/parallel-node';
import { backends } from '@lenet/backend-plain';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
const windows = opt('--windows', 20);
const steps = opt('--steps', 10);
const micro = opt('--micro', 16);
const batch = 128;
const spec = getPreset('lenet5');
const paramCount = [...initWeights(spec, 0).values()].reduce((a, t) => a + t.data.length, 0);
const x = randomImages(1, batch, 784);
const y = randomLabels(2, batch, 10);

const plain = await backends.find((b) => b.name === 'plain').createSession(spec, initWeights(spec, 0), { threads: 2 });
const engine = await DataParallelEngine.create({ label: 'noop', workers: 1, script: new URL('./lib/noop-chunk-worker.mjs', import.meta.url), data: {}, inputSize: 784, paramCount, microChunk: micro });
const params = [new Float32Array(paramCount)];
const next = [new Float32Array(paramCount)];
const grads = new Float32Array(paramCount).fill(1e-3);
const local = () => ({ loss: 1, grads });
const runs = {
  'plain step': () => plain.trainStep(x, y, batch, 0.01),
  'engine only': () => engine.step(x, y, batch, 0.01, params, next, local),
};
for (const run of Object.values(runs)) for (let i = 0; i < 5; i++) await run();
const ms = { 'plain step': [], 'engine only': [] };
for (let w = 0; w < windows; w++) {
  for (const k of w % 2 ? Object.keys(runs) : Object.keys(runs).reverse()) {
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await runs[k]();
    ms[k].push((performance.now() - t0) / steps);
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const shares = ms['engine only'].map((e, i) => e / ms['plain step'][i]);
console.log(`batch ${batch}, ${micro}-sample micro-chunks, 2 threads, ${windows} windows x ${steps} steps; CPU ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} (end)`);
for (const k of Object.keys(ms)) console.log(`  ${k.padEnd(12)} ${median(ms[k]).toFixed(2)} ms/step [${Math.min(...ms[k]).toFixed(2)}–${Math.max(...ms[k]).toFixed(2)}]`);
console.log(`  engine only / plain step: median ${median(shares).toFixed(3)} [${Math.min(...shares).toFixed(2)}, ${Math.max(...shares).toFixed(2)}]`);
await plain.dispose();
await engine.dispose();
