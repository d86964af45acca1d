#!/usr/bin/env node
// Data-pipeline costs (tinybench): what the training loop pays per step besides the backend —
// the seeded epoch permutation, filling one batch of 128 (pixels/255 -> float32 NCHW), a whole
// epoch of batches — and the float64 reference forward the run harness uses for its agreement
// check. Prints a table and writes results/data.json. Medians are quoted; the machine is shared.
//   node data.bench.mjs [--quick]
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { Batcher, epochOrder, splitToFloat, stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { referenceForward } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';

const quick = process.argv.includes('--quick');
const here = dirname(fileURLToPath(import.meta.url));
const TIME = quick ? 300 : 1500;

const t0 = performance.now();
const { train, test, source } = await loadDataset('fashion-mnist');
const loadSeconds = (performance.now() - t0) / 1000;
const spec = getPreset('lenet5');
const weights = initWeights(spec, 0);
const batcher = new Batcher(train, { batchSize: 128, seed: 0 });
const order = batcher.epochOrder(0);
const ref16 = splitToFloat(stratifiedSubset(test, 16, 0));

const bench = new Bench({ time: TIME, warmupTime: quick ? 100 : 300, iterations: 5 });
bench.add('epochOrder(60000)', () => { epochOrder(train.count, 0, 1); });
let start = 0;
bench.add('Batcher.fill 128', () => { batcher.fill(order, start, 128); start = (start + 128) % (train.count - 128); });
bench.add('Batcher epoch (469 batches)', () => { for (const b of batcher.epoch(0)) void b.n; });
bench.add('splitToFloat test (10000)', () => { splitToFloat(test); });
bench.add('referenceForward float64 x16', () => { referenceForward(spec, weights, ref16, 16); });
await bench.run();

const perImage = { 'Batcher.fill 128': 128, 'Batcher epoch (469 batches)': train.count, 'splitToFloat test (10000)': test.count, 'referenceForward float64 x16': 16 };
const rows = bench.tasks.map((t) => {
  const r = t.result;
  const p50 = r.latency.p50;
  const images = perImage[t.name];
  return { task: t.name, p50Ms: p50, madMs: r.latency.mad, samples: r.latency.samplesCount, imagesPerSecond: images ? images / (p50 / 1000) : null };
});
console.table(rows.map((r) => ({ task: r.task, 'p50 ms': r.p50Ms.toFixed(4), 'mad ms': r.madMs.toFixed(4), samples: r.samples, 'img/s': r.imagesPerSecond ? Math.round(r.imagesPerSecond) : '' })));
console.log(`(dataset load + verify: ${loadSeconds.toFixed(2)} s from ${source.kind})`);

const out = {
  suite: 'data',
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: availableParallelism(), loadavg: loadavg(), node: process.version },
  quick,
  datasetLoadSeconds: loadSeconds,
  rows,
};
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', 'data.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`\nwrote ${file}`);
