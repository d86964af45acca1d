#!/usr/bin/env node
// Benchmarks of @lenet/backend-tfjs (tinybench): predict latency at batch 1, predict
// throughput at batch 256 and train-step throughput at batch 128 for tfjs-wasm and tfjs-cpu,
// plus tfjs-cpu with TF.js's stock gradient kernels ("out of the box", what tf.layers uses).
// tf.setBackend is process-global, so every backend variant runs in its own child process.
// Prints a table and writes results/tfjs.json. Medians are quoted; these machines are shared
// and noisy, so compare ratios measured in one run.
//   node tfjs.bench.mjs [--quick] [--model lenet5]
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { createTfjsCpuBackend, tfjsCpuBackend, tfjsWasmBackend } from '@lenet/backend-tfjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const modelName = opt('--model', 'lenet5');
const here = dirname(fileURLToPath(import.meta.url));

/** Backend variants; each runs in a child process. */
const VARIANTS = {
  'tfjs-wasm': { backend: () => tfjsWasmBackend, trainBatch: 128, note: 'Conv2D-composite conv grads, registered Conv2DBackpropFilter' },
  'tfjs-cpu': { backend: () => tfjsCpuBackend, trainBatch: 128, note: 'Conv2D-composite conv grads' },
  'tfjs-cpu-stock': {
    backend: () =>
      createTfjsCpuBackend({
        name: 'tfjs-cpu-stock',
        gradientKernels: { filterGrad: 'native', inputGrad: 'native', maxPoolGrad: 'native', avgPoolGrad: 'native' },
      }),
    trainBatch: 128,
    note: "TF.js's own gradient kernels (out of the box)",
    trainOnly: true,
  },
};

async function child(variantName) {
  const variant = VARIANTS[variantName];
  const backend = variant.backend();
  const spec = getPreset(modelName);
  const session = await backend.createTrainingSession(spec, initWeights(spec, 0), { maxBatchSize: 256 });
  const x = randomImages(1, 256, 784);
  const y = randomLabels(2, 256, 10);
  const slow = variantName === 'tfjs-cpu-stock';
  const bench = new Bench({
    time: slow ? 0 : quick ? 300 : 1500,
    warmupTime: slow ? 0 : quick ? 100 : 400,
    warmupIterations: slow ? 1 : 5,
    iterations: slow ? (quick ? 2 : 4) : 10,
  });
  if (!variant.trainOnly) {
    bench.add('predict b1', async () => { await session.predict(x, 1); });
    bench.add('predict b256', async () => { await session.predict(x, 256); });
  }
  bench.add(`train b${variant.trainBatch}`, async () => { await session.trainStep(x, y, variant.trainBatch, 0.01); });
  await bench.run();
  const info = await backend.info();
  const task = (name) => bench.tasks.find((t) => t.name === name)?.result;
  const b1 = task('predict b1');
  const b256 = task('predict b256');
  const tr = task(`train b${variant.trainBatch}`);
  await session.dispose();
  return {
    variant: variantName,
    note: variant.note,
    runtime: info.runtime,
    versions: info.versions,
    threads: info.threads ?? null,
    latencyB1Ms: b1?.latency.p50 ?? null,
    latencyB1P99Ms: b1?.latency.p99 ?? null,
    predictB256ImgPerSec: b256 ? 256 / (b256.latency.p50 / 1000) : null,
    predictB256MadMs: b256?.latency.mad ?? null,
    trainBatch: variant.trainBatch,
    trainImgPerSec: variant.trainBatch / (tr.latency.p50 / 1000),
    trainMadMs: tr.latency.mad,
    trainMedianMs: tr.latency.p50,
    samples: { b1: b1?.latency.samplesCount ?? 0, b256: b256?.latency.samplesCount ?? 0, train: tr.latency.samplesCount },
  };
}

if (args.includes('--child')) {
  const result = await child(opt('--child'));
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

const fmt = (v, digits = 0) => (v === null ? '-' : v.toFixed(digits));
console.log(
  `@lenet/backend-tfjs on ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, node ${process.versions.node}, ` +
    `load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
);
console.log(`model ${modelName}; medians of tinybench samples; one child process per variant\n`);
const rows = [];
for (const name of Object.keys(VARIANTS)) {
  const passThrough = args.filter((a) => a !== '--child');
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...passThrough, '--child', name], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (r.status !== 0 || line === undefined) {
    console.error(`${name} failed (exit ${r.status}):\n${r.stderr}`);
    process.exitCode = 1;
    continue;
  }
  const row = JSON.parse(line.slice('RESULT '.length));
  rows.push(row);
  console.log(
    `${name.padEnd(15)} b1 ${fmt(row.latencyB1Ms, 3).padStart(7)} ms  predict b256 ${fmt(row.predictB256ImgPerSec).padStart(6)} img/s  ` +
      `train b${row.trainBatch} ${fmt(row.trainImgPerSec).padStart(6)} img/s (median step ${fmt(row.trainMedianMs, 1)} ms, n=${row.samples.train})  ${row.runtime}`,
  );
}

const out = {
  suite: 'tfjs',
  date: new Date().toISOString(),
  model: modelName,
  quick,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.versions.node, loadavg: loadavg() },
  note: 'Shared, noisy machine: compare ratios from one run. Medians of tinybench latency samples.',
  results: rows,
};
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', 'tfjs.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`\nwrote ${file}`);
