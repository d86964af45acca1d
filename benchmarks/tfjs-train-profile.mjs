#!/usr/bin/env node
// Per-kernel profile of the tfjs-wasm training step (or predict): wraps every kernel registered
// for the wasm backend with a timer and reports self time per kernel and input shapes (a
// composite kernel's time excludes the kernels it calls), ms per step, and the time outside
// kernels (engine, tidy, JS). Timers add a little overhead per kernel; compare runs of this
// script, not its totals with other benchmarks.
//   node tfjs-train-profile.mjs [--model lenet5] [--batch 128] [--predict] [--steps 30] [--top 30]
//                               [--impl <dir of a backend-tfjs dist>, default: the installed build]
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const model = opt('--model', 'lenet5');
const batch = Number(opt('--batch', '128'));
const predict = args.includes('--predict');
const steps = Number(opt('--steps', '30'));
const top = Number(opt('--top', '30'));
const impl = args.includes('--impl')
  ? await import(pathToFileURL(resolve(opt('--impl'), 'index.js')).href)
  : await import('@lenet/backend-tfjs');
// The tfjs-core instance the backend package uses (pnpm keeps it out of this workspace).
const tf = createRequire(import.meta.resolve('@lenet/backend-tfjs'))('@tensorflow/tfjs-core');

const spec = getPreset(model);
const session = await impl.tfjsWasmBackend.createSession(spec, initWeights(spec, 0), {});
const x = randomImages(1, batch, spec.inputShape.reduce((a, b) => a * b, 1));
const y = randomLabels(2, batch, 10);

const stats = new Map();
const stack = [];
for (const config of tf.getKernelsForBackend('wasm')) {
  const { kernelName, kernelFunc } = config;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({
    ...config,
    kernelFunc: (call) => {
      const t0 = performance.now();
      stack.push(0);
      const out = kernelFunc(call);
      const dt = performance.now() - t0;
      const inner = stack.pop();
      if (stack.length > 0) stack[stack.length - 1] += dt;
      const key = `${kernelName} ${JSON.stringify(Object.values(call.inputs).map((t) => t?.shape ?? null))}`;
      const s = stats.get(key) ?? { ms: 0, calls: 0 };
      s.ms += dt - inner;
      s.calls++;
      stats.set(key, s);
      return out;
    },
  });
}
const step = () => (predict ? session.predict(x, batch) : session.trainStep(x, y, batch, 0.01));
for (let i = 0; i < 5; i++) await step();
stats.clear();
const t0 = performance.now();
for (let i = 0; i < steps; i++) await step();
const perStep = (performance.now() - t0) / steps;
const rows = [...stats].map(([key, s]) => ({ key, ms: s.ms / steps, calls: s.calls / steps })).sort((a, b) => b.ms - a.ms);
const kernelMs = rows.reduce((a, r) => a + r.ms, 0);
console.log(
  `${model} ${predict ? 'predict' : 'train'} b${batch}: ${perStep.toFixed(2)} ms/step, kernels ${kernelMs.toFixed(2)} ms, ` +
    `outside kernels ${(perStep - kernelMs).toFixed(2)} ms; ${rows.reduce((a, r) => a + r.calls, 0)} kernel calls/step`,
);
console.log('| kernel [input shapes] | calls | ms/step | % of step |\n|---|---:|---:|---:|');
for (const r of rows.slice(0, top)) console.log(`| ${r.key} | ${r.calls} | ${r.ms.toFixed(3)} | ${((100 * r.ms) / perStep).toFixed(1)} |`);
session.dispose();
