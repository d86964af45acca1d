#!/usr/bin/env node
// Interleaved before/after of the ORT training-step graph on ort-node, per op type: the
// baseline build's graph and the current one run in ONE process, one step each in alternating
// order, both with ORT's profiler on; so both see the same machine load, which on a shared
// machine swings far more between two sequential runs than any graph change. Prints the median
// of per-pair wall ratios, the kernel-time ratio and µs/step per op type (old -> new).
//   node ort-train-ab-profile.mjs [--baseline <dir of an older backend-onnxruntime dist>]
//                                 [--model lenet5|lenet5-modern|all] [--threads 2] [--steps 100]
// The current graph is built as ort-node builds it (with the probed NCHWc block size).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Batcher } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset } from '@lenet/model';
import { profiledTrainingSession, readProfile, weightStepper } from './lib/ort-train.mjs';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const here = fileURLToPath(new URL('.', import.meta.url));
const BASELINE = resolve(opt('--baseline', resolve(here, '../packages/backend-onnxruntime/.tmp/baseline-dist')));
const THREADS = Number(opt('--threads', '2'));
const STEPS = Number(opt('--steps', '100'));
const WARMUP = 5;
const models = opt('--model', 'all') === 'all' ? ['lenet5', 'lenet5-modern'] : [opt('--model')];
const ort = createRequire(import.meta.resolve('@lenet/backend-onnxruntime'))('onnxruntime-node');
const impls = { old: await import(pathToFileURL(resolve(BASELINE, 'index.js')).href), new: await import('@lenet/backend-onnxruntime') };

const { train } = await loadDataset('fashion-mnist');
const batcher = new Batcher(train, { batchSize: 128, seed: 0 });
const order = batcher.epochOrder(0);
const batches = Array.from({ length: 16 }, (_, i) => {
  const b = batcher.fill(order, i * 128, 128);
  return { x: new ort.Tensor('float32', b.x.slice(0, 128 * 784), [128, 1, 28, 28]), y: new ort.Tensor('int32', b.y.slice(0, 128), [128]) };
});
const median = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
const fmt = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });

async function compare(model) {
  const spec = getPreset(model);
  const dir = mkdtempSync(join(tmpdir(), 'ort-abprof-'));
  const sessions = {};
  const steps = {};
  for (const [key, impl] of Object.entries(impls)) {
    sessions[key] = await profiledTrainingSession(ort, impl, spec, { threads: THREADS, dir, prefix: key });
    const step = weightStepper(ort, sessions[key], spec, 0.01);
    let i = 0;
    steps[key] = () => step(batches[i++ % batches.length]);
  }
  for (let i = 0; i < WARMUP; i++) for (const step of Object.values(steps)) await step();
  const wall = { old: [], new: [] };
  for (let i = 0; i < STEPS; i++) for (const key of i % 2 ? ['new', 'old'] : ['old', 'new']) wall[key].push(await steps[key]());
  const prof = {};
  for (const [key, session] of Object.entries(sessions)) {
    const { kernels } = await readProfile(session, dir, key, WARMUP);
    const byOp = new Map();
    let total = 0;
    for (const e of kernels) {
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + e.dur / STEPS);
      total += e.dur / STEPS;
    }
    prof[key] = { total, byOp };
  }
  rmSync(dir, { recursive: true, force: true });
  const pairRatio = median(wall.old.map((o, i) => o / wall.new[i]));
  console.log(`\n## ${model}, ${THREADS} intra-op thread(s), ${STEPS} alternating step pairs, load ${loadavg()[0].toFixed(1)}\n`);
  console.log(`wall median old ${fmt(median(wall.old), 2)} ms, new ${fmt(median(wall.new), 2)} ms; median of per-pair old/new ${fmt(pairRatio, 3)}×; kernel time old ${fmt(prof.old.total)} µs/step, new ${fmt(prof.new.total)} µs/step (old/new ${fmt(prof.old.total / prof.new.total, 3)}×)\n`);
  console.log('| op type | old µs/step | new µs/step |\n|---|---:|---:|');
  const ops = [...new Set([...prof.old.byOp.keys(), ...prof.new.byOp.keys()])].sort((a, b) => (prof.old.byOp.get(b) ?? 0) - (prof.old.byOp.get(a) ?? 0));
  for (const op of ops) {
    const [o, n] = [prof.old.byOp.get(op) ?? 0, prof.new.byOp.get(op) ?? 0];
    if (Math.max(o, n) >= 0.01 * prof.old.total) console.log(`| ${op} | ${fmt(o)} | ${fmt(n)} |`);
  }
}

console.log(`# ORT training step, interleaved old/new profile\nonnxruntime-node ${ort.env.versions.node}, batch 128, Fashion-MNIST; baseline ${BASELINE}`);
console.log(`machine: ${cpus()[0].model}, ${availableParallelism()} hardware threads, load ${loadavg().map((l) => l.toFixed(2)).join(' ')} (shared), ${new Date().toISOString()}`);
for (const m of models) await compare(m);
