#!/usr/bin/env node
// Before/after of the tfjs-wasm backend in one process: a baseline build (a copy of an older
// backend-tfjs dist) and the installed build train (or predict) the same random batch in
// alternating windows (order flipped every window). Prints medians of ms/step, the median and
// range of the per-window-pair ratio old/new (> 1: new is faster) and images per CPU-second
// (process.cpuUsage; less sensitive to other processes on a shared machine).
// Both builds register kernels into one tfjs-core; kernels of the same name are registered once
// (first build wins), so a baseline whose composite kernels differ in behaviour from the current
// ones cannot be compared this way.
//   node tfjs-train-ab.mjs [--baseline ../packages/backend-tfjs/.tmp/baseline-dist] [--model lenet5]
//                          [--batch 128] [--predict] [--windows 30] [--steps 3]
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadavg } from 'node:os';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const here = fileURLToPath(new URL('.', import.meta.url));
const baseline = resolve(opt('--baseline', resolve(here, '../packages/backend-tfjs/.tmp/baseline-dist')));
const model = opt('--model', 'lenet5');
const batch = Number(opt('--batch', '128'));
const predict = args.includes('--predict');
const windows = Number(opt('--windows', '30'));
const steps = Number(opt('--steps', '3'));

const impls = { old: await import(pathToFileURL(resolve(baseline, 'index.js')).href), new: await import('@lenet/backend-tfjs') };
const spec = getPreset(model);
const sessions = {};
for (const k of ['old', 'new']) sessions[k] = await impls[k].tfjsWasmBackend.createSession(spec, initWeights(spec, 0), {});
const x = randomImages(1, batch, spec.inputShape.reduce((a, b) => a * b, 1));
const y = randomLabels(2, batch, 10);
const run = (s) => (predict ? s.predict(x, batch) : s.trainStep(x, y, batch, 0.01));
for (let i = 0; i < 3; i++) for (const k of ['old', 'new']) await run(sessions[k]);

const ms = { old: [], new: [] };
const perCpuSecond = { old: [], new: [] };
for (let w = 0; w < windows; w++) {
  for (const k of w % 2 ? ['old', 'new'] : ['new', 'old']) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) await run(sessions[k]);
    const cpu = process.cpuUsage(cpu0);
    ms[k].push((performance.now() - t0) / steps);
    perCpuSecond[k].push((batch * steps) / ((cpu.user + cpu.system) / 1e6));
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ratios = ms.old.map((t, i) => t / ms.new[i]);
const side = (k) =>
  `${median(ms[k]).toFixed(2)} ms/step (${((batch / median(ms[k])) * 1000).toFixed(0)} img/s, ${median(perCpuSecond[k]).toFixed(0)} img/CPU-s)`;
console.log(
  `${model} ${predict ? 'predict' : 'train'} b${batch}, ${windows} windows x ${steps} steps, load ${loadavg()[0].toFixed(1)}: ` +
    `old ${side('old')} | new ${side('new')} | old/new median ${median(ratios).toFixed(3)} ` +
    `[${Math.min(...ratios).toFixed(2)}, ${Math.max(...ratios).toFixed(2)}], img/CPU-s new/old ${(median(perCpuSecond.new) / median(perCpuSecond.old)).toFixed(3)}`,
);
for (const k of ['old', 'new']) await sessions[k].dispose();
