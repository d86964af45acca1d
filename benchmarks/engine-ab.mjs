#!/usr/bin/env node
// Data-parallel engine A/B: training throughput of one backend (ort-node, ort-web, tfjs-wasm,
// tfjs-cpu) built against different engines, interleaved in one process: the installed build
// ("new") and copies of other dists (e.g. the build before @lenet/parallel-node, or one with
// another micro-chunk size), each a session with the same thread count, training lenet5 at
// batch 128 on real Fashion-MNIST batches through the backend API, in alternating windows (the
// order rotates every window). Prints medians of img/s per build and the median and range of
// the per-window ratio to the first build, and images per CPU-second (process.cpuUsage, worker
// threads included; less sensitive to other processes on a shared machine). The machine is shared and noisy: only ratios from
// this one run mean anything.
//   node engine-ab.mjs --backend ort-node --threads 2 --builds old=../packages/backend-onnxruntime/.tmp/baseline-dist,new
//                      [--model lenet5] [--batch 128] [--windows 15] [--steps 8]
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { Batcher } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset, initWeights } from '@lenet/model';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const backendName = opt('--backend', 'ort-node');
const threads = Number(opt('--threads', '2'));
const model = opt('--model', 'lenet5');
const batch = Number(opt('--batch', '128'));
const windows = Number(opt('--windows', '15'));
const steps = Number(opt('--steps', '8'));
const pkg = backendName.startsWith('ort') ? '@lenet/backend-onnxruntime' : '@lenet/backend-tfjs';
const builds = opt('--builds', 'new').split(',').map((b) => {
  const [label, dir] = b.split('=');
  return { label, dir };
});

const { train } = await loadDataset('fashion-mnist');
const batcher = new Batcher(train, { batchSize: batch, seed: 0 });
const order = batcher.epochOrder(0);
const batches = Array.from({ length: 32 }, (_, i) => {
  const b = batcher.fill(order, i * batch, batch);
  return { x: b.x.slice(0, batch * 784), y: b.y.slice(0, batch) };
});
const spec = getPreset(model);
const sessions = [];
for (const b of builds) {
  const mod = b.dir ? await import(pathToFileURL(resolve(b.dir, 'index.js')).href) : await import(pkg);
  const backend = mod.backends.find((x) => x.name === backendName);
  const session = await backend.createSession(spec, initWeights(spec, 0), { threads });
  for (let i = 0; i < 3; i++) await session.trainStep(batches[i].x, batches[i].y, batch, 0.1); // warm-up
  sessions.push({ ...b, session, info: (await backend.info({ threads })).runtime, imgs: [], perCpu: [] });
}
let next = 0;
for (let w = 0; w < windows; w++) {
  for (let k = 0; k < sessions.length; k++) {
    const s = sessions[(w + k) % sessions.length];
    const t0 = performance.now();
    const cpu0 = process.cpuUsage(); // the whole process: worker threads included
    for (let i = 0; i < steps; i++) {
      const b = batches[next++ % batches.length];
      await s.session.trainStep(b.x, b.y, batch, 0.1);
    }
    s.imgs.push((batch * steps * 1000) / (performance.now() - t0));
    const cpu = process.cpuUsage(cpu0);
    s.perCpu.push((batch * steps) / ((cpu.user + cpu.system) / 1e6));
  }
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
console.log(`${backendName} ${model} train b${batch}, ${threads} thread(s), ${windows} windows x ${steps} steps; CPU ${cpus()[0]?.model}, load ${loadavg().map((l) => l.toFixed(1)).join(' ')} (end)`);
const base = sessions[0];
for (const s of sessions) {
  const ratios = s.imgs.map((v, i) => v / base.imgs[i]);
  console.log(
    `  ${s.label.padEnd(8)} ${median(s.imgs).toFixed(0).padStart(6)} img/s [${Math.min(...s.imgs).toFixed(0)}–${Math.max(...s.imgs).toFixed(0)}]` +
      (s === base ? '' : `  ${s.label}/${base.label} median ${median(ratios).toFixed(3)} [${Math.min(...ratios).toFixed(2)}, ${Math.max(...ratios).toFixed(2)}]`) +
      `  ${median(s.perCpu).toFixed(0)} img/CPU-s` +
      `  (${s.info})`,
  );
}
for (const s of sessions) await s.session.dispose();
