#!/usr/bin/env node
// Benchmarks of @lenet/backend-plain (tinybench): per-backend predict latency at batch 1,
// predict throughput at batch 256, train-step throughput at batch 128 (lenet5), for both
// tiers and 1 / all threads, plus a per-layer time breakdown of one thread's forward and
// backward pass. Prints tables and writes results/plain.json. Medians are quoted; these
// machines are shared, so compare ratios measured in one run.
//   node plain.bench.mjs [--quick] [--model lenet5]
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights, flattenWeights } from '@lenet/model';
import {
  plainBackend, plainJsBackend, buildPlan, Engine, jsKernels, loadWasmModule, instantiateWasm, CHUNK, VERSION,
} from '@lenet/backend-plain';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const modelArg = args.indexOf('--model');
const modelName = modelArg >= 0 ? args[modelArg + 1] : 'lenet5';
const here = dirname(fileURLToPath(import.meta.url));
const spec = getPreset(modelName);
const weights = initWeights(spec, 0);
const cores = availableParallelism();
const TIME = quick ? 300 : 1500;

const x = randomImages(1, 256, 784);
const y = randomLabels(2, 256, 10);

const rows = [];
const median = (task) => task.result.latency.p50;

async function benchBackend(backend, threads) {
  const session = await backend.createTrainingSession(spec, weights, { threads, maxBatchSize: 256 });
  const bench = new Bench({ time: TIME, warmupTime: quick ? 100 : 500, warmupIterations: 5, iterations: 10 });
  bench.add('predict b1', async () => { await session.predict(x, 1); });
  bench.add('predict b256', async () => { await session.predict(x, 256); });
  bench.add('train b128', async () => { await session.trainStep(x, y, 128, 0.01); });
  await bench.run();
  const info = await backend.info({ threads });
  const [b1, b256, t128] = bench.tasks;
  const r = {
    backend: backend.name,
    runtime: info.runtime,
    threads,
    latencyB1Ms: median(b1),
    latencyB1P99Ms: b1.result.latency.p99,
    predictB256ImgPerSec: 256 / (median(b256) / 1000),
    predictB256MadMs: b256.result.latency.mad,
    trainB128ImgPerSec: 128 / (median(t128) / 1000),
    trainB128MadMs: t128.result.latency.mad,
    samples: { b1: b1.result.latency.samplesCount, b256: b256.result.latency.samplesCount, train: t128.result.latency.samplesCount },
  };
  await session.dispose();
  rows.push(r);
  console.log(
    `${r.backend.padEnd(9)} threads ${threads}  b1 ${r.latencyB1Ms.toFixed(3)} ms  predict b256 ${r.predictB256ImgPerSec.toFixed(0).padStart(6)} img/s  train b128 ${r.trainB128ImgPerSec.toFixed(0).padStart(6)} img/s`,
  );
}

// Per-layer breakdown: one thread, one 16-sample micro-chunk, forward + backward, per tier.
async function layerBreakdown() {
  const plan = buildPlan(spec, CHUNK);
  const params = flattenWeights(spec, weights);
  const module = await loadWasmModule();
  const out = {};
  for (const tier of ['js', 'wasm-simd']) {
    let engine;
    if (tier === 'js') engine = new Engine(plan, jsKernels, new Float32Array(plan.arena.size));
    else if (typeof module !== 'string') {
      const a = instantiateWasm(module, plan.arena.size);
      engine = new Engine(plan, a.kernels, a.mem);
    } else continue;
    engine.loadParams(params, 0);
    const losses = new Float64Array(CHUNK);
    const samples = new Map();
    const reps = quick ? 20 : 80;
    let record = false;
    engine.timer = (o, phase, ms) => {
      if (!record) return;
      const key = `${phase}:${o}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key).push(ms);
    };
    const step = () => {
      engine.forward(x, 0, CHUNK, true);
      engine.backward(y, 0, CHUNK, 1 / CHUNK, losses, 0);
    };
    for (let i = 0; i < 10; i++) step();
    record = true;
    for (let i = 0; i < reps; i++) step();
    const layers = [];
    let total = 0;
    for (const phase of ['forward', 'backward']) {
      const order = phase === 'forward' ? plan.ops.map((_, i) => i) : plan.ops.map((_, i) => plan.ops.length - 1 - i);
      for (const o of order) {
        const s = samples.get(`${phase}:${o}`);
        if (!s) continue;
        s.sort((a, b) => a - b);
        const usPerImage = (s[s.length >> 1] * 1000) / CHUNK;
        total += usPerImage;
        layers.push({ phase, op: o, label: plan.ops[o].label, kind: plan.ops[o].kind, usPerImage });
      }
    }
    for (const l of layers) l.share = l.usPerImage / total;
    out[tier] = { totalUsPerImage: total, layers };
  }
  return out;
}

console.log(`@lenet/backend-plain ${VERSION} on ${cpus()[0]?.model ?? 'unknown CPU'}, ${cores} cores, node ${process.versions.node}, load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
console.log(`model ${modelName}; medians of tinybench samples (${TIME} ms per task)\n`);
const threadCounts = [...new Set([1, cores])];
for (const backend of [plainBackend, plainJsBackend]) for (const t of threadCounts) await benchBackend(backend, t);

const breakdown = await layerBreakdown();
for (const [tier, b] of Object.entries(breakdown)) {
  console.log(`\nper-layer breakdown, ${tier}, 1 thread, forward+backward of a ${CHUNK}-image chunk: ${b.totalUsPerImage.toFixed(1)} us/img (${(1e6 / b.totalUsPerImage).toFixed(0)} img/s/thread)`);
  for (const l of b.layers) {
    console.log(`  ${l.phase.padEnd(8)} ${String(l.op).padStart(2)} ${l.label.padEnd(10)} ${l.usPerImage.toFixed(2).padStart(8)} us/img ${(100 * l.share).toFixed(1).padStart(5)}%`);
  }
}

const result = {
  suite: 'plain',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores, node: process.versions.node, loadavg: loadavg() },
  model: modelName,
  note: 'medians; shared machine, numbers are noisy — compare ratios from one run',
  backends: rows,
  layerBreakdown: breakdown,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'plain.json'), JSON.stringify(result, null, 2) + '\n');
console.log(`\nwrote ${join(here, 'results', 'plain.json')}`);
