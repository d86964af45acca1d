#!/usr/bin/env node
// Per-node profile of the ONNX Runtime training-step graph (@lenet/backend-onnxruntime's
// buildTrainingGraph), from ORT's own profiler (session option enableProfiling): runs STEPS
// training steps at batch 128 on real Fashion-MNIST batches (weights ping-pong between steps
// as in the backend), then aggregates the profile JSON per op type and per node: µs per step
// and % of the summed kernel time. Fractions are robust to the noise of a shared machine;
// absolute µs are not.
//   node ort-train-profile.mjs [--model lenet5|lenet5-modern|all] [--steps 50] [--threads 2]
//                              [--impl <path to a built backend-onnxruntime dist/index.js>]
//                              [--label after] [--top 15] [--json out.json]
// --impl lets the same script profile an older build (e.g. a copy of dist/ made before a change).
// ort-web: onnxruntime-web writes its profile inside the wasm module's virtual file system, so
// only ort-node (native CPU EP, same kernels as the wasm EP's CPU kernels) is profiled here.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { Batcher } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset } from '@lenet/model';
import { profiledTrainingSession, readProfile, weightStepper } from './lib/ort-train.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const STEPS = Number(opt('--steps', '50'));
const WARMUP = 5;
const THREADS = Number(opt('--threads', '2'));
const TOP = Number(opt('--top', '15'));
const label = opt('--label', 'current');
const implPath = opt('--impl', undefined);
const models = opt('--model', 'all') === 'all' ? ['lenet5', 'lenet5-modern'] : [opt('--model')];
// onnxruntime-node is a dependency of the backend package, not of the benchmarks: load it from there.
const ort = createRequire(import.meta.resolve('@lenet/backend-onnxruntime'))('onnxruntime-node');
const impl = implPath ? await import(pathToFileURL(resolve(implPath)).href) : await import('@lenet/backend-onnxruntime');

const { train } = await loadDataset('fashion-mnist');
const batcher = new Batcher(train, { batchSize: 128, seed: 0 });
const order = batcher.epochOrder(0);
// Copies of STEPS + WARMUP real batches (the batcher reuses its buffers).
const batches = Array.from({ length: STEPS + WARMUP }, (_, i) => {
  const b = batcher.fill(order, i * 128, 128);
  return { x: b.x.slice(0, 128 * 784), y: b.y.slice(0, 128) };
});

async function profile(modelName) {
  const spec = getPreset(modelName);
  const dir = mkdtempSync(join(tmpdir(), 'ort-prof-'));
  const session = await profiledTrainingSession(ort, impl, spec, { threads: THREADS, dir, prefix: 'train' });
  const step = weightStepper(ort, session, spec, 0.1);
  const wall = [];
  for (let i = 0; i < STEPS + WARMUP; i++) {
    const ms = await step({ x: new ort.Tensor('float32', batches[i].x, [128, 1, 28, 28]), y: new ort.Tensor('int32', batches[i].y, [128]) });
    if (i >= WARMUP) wall.push(ms);
  }
  // model_run events, one per run, without the WARMUP first ones; the kernels run since.
  const { runs: measured, kernels: nodes } = await readProfile(session, dir, 'train', WARMUP);
  rmSync(dir, { recursive: true, force: true });
  const byOp = new Map();
  const byNode = new Map();
  let kernelTotal = 0;
  for (const e of nodes) {
    const op = e.args?.op_name ?? '?';
    const node = e.name.replace(/_kernel_time$/, '');
    kernelTotal += e.dur;
    byOp.set(op, (byOp.get(op) ?? 0) + e.dur);
    const n = byNode.get(node) ?? { op, dur: 0, shapes: e.args?.output_type_shape };
    n.dur += e.dur;
    byNode.set(node, n);
  }
  const steps = measured.length;
  const runTotal = measured.reduce((s, e) => s + e.dur, 0);
  const sorted = [...wall].sort((a, b) => a - b);
  return {
    model: modelName,
    steps,
    nodeCount: byNode.size,
    medianStepMs: sorted[sorted.length >> 1],
    runUsPerStep: runTotal / steps,
    kernelUsPerStep: kernelTotal / steps,
    ops: [...byOp].map(([op, dur]) => ({ op, usPerStep: dur / steps, pct: (100 * dur) / kernelTotal })).sort((a, b) => b.usPerStep - a.usPerStep),
    nodes: [...byNode].map(([node, v]) => ({ node, op: v.op, usPerStep: v.dur / steps, pct: (100 * v.dur) / kernelTotal })).sort((a, b) => b.usPerStep - a.usPerStep),
  };
}

const fmt = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const results = [];
console.log(`# ORT training-step profile (${label})`);
console.log(`onnxruntime-node ${ort.env.versions.node}, ${THREADS} intra-op threads, batch 128, ${STEPS} steps after ${WARMUP} warm-up, Fashion-MNIST`);
console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} hardware threads, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} (shared), ${new Date().toISOString()}`);
for (const m of models) {
  const r = await profile(m);
  results.push(r);
  console.log(`\n## ${m} (${label}): ${r.nodeCount} kernels run; median step ${fmt(r.medianStepMs, 2)} ms wall (${fmt(128000 / r.medianStepMs)} img/s); kernel time ${fmt(r.kernelUsPerStep)} µs/step of ${fmt(r.runUsPerStep)} µs model_run\n`);
  console.log('| op type | µs/step | % of kernel time |\n|---|---:|---:|');
  for (const o of r.ops) if (o.pct >= 0.5 || r.ops.indexOf(o) < TOP) console.log(`| ${o.op} | ${fmt(o.usPerStep)} | ${fmt(o.pct, 1)} |`);
  console.log(`\nTop ${TOP} nodes:\n\n| node | op | µs/step | % |\n|---|---|---:|---:|`);
  for (const n of r.nodes.slice(0, TOP)) console.log(`| ${n.node} | ${n.op} | ${fmt(n.usPerStep)} | ${fmt(n.pct, 1)} |`);
}
const out = opt('--json', undefined);
if (out) writeFileSync(out, JSON.stringify({ label, threads: THREADS, date: new Date().toISOString(), results }, null, 2));
