#!/usr/bin/env node
// Benchmarks of @lenet/backend-onnxruntime (tinybench): predict latency at batch 1, predict
// throughput at batch 256 and train-step throughput at batch 128, for ort-node (CPU EP) and
// ort-web (wasm, SIMD) at 1 and 2 threads. Each variant runs in its own child process
// (onnxruntime-web fixes its wasm thread count once per process).
// Peers in the same run, when python3 with torch is available:
// - our exported model vs a LeNet exported by torch.onnx (what REFERENCE.md's ~68,000 img/s
//   at batch 256 was measured with), as raw onnxruntime-node sessions with identical options,
//   runs interleaved: checks that our export is not slower;
// - "pytorch": PyTorch's own CPU training step at batch 128 (the ~7,300 img/s reference).
// Prints a table and writes results/ort.json. Medians are quoted; these machines are shared
// and noisy, so compare ratios measured in one run.
//   node ort.bench.mjs [--quick] [--model lenet5|lenet5-modern] [--no-torch] [--only ort-node-2t,...]
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { ortNodeBackend, ortWebBackend } from '@lenet/backend-onnxruntime';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const modelName = opt('--model', 'lenet5');
const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.LENET_PYTHON ?? '/usr/bin/python3';

const VARIANTS = {
  'ort-node-1t': { backend: 'ort-node', threads: 1 },
  'ort-node-2t': { backend: 'ort-node', threads: 2, torchExport: true },
  'ort-web-1t': { backend: 'ort-web', threads: 1 },
  'ort-web-2t': { backend: 'ort-web', threads: 2 },
};

// LeNet in PyTorch, written from the d2l definition (sigmoid/avg or relu/max).
const TORCH_NET = `
import sys, time, torch, torch.nn as nn
modern = sys.argv[2] == 'lenet5-modern'
A = nn.ReLU if modern else nn.Sigmoid
P = nn.MaxPool2d if modern else nn.AvgPool2d
net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), A(), P(2, 2), nn.Conv2d(6, 16, 5), A(), P(2, 2), nn.Flatten(),
                    nn.Linear(400, 120), A(), nn.Linear(120, 84), A(), nn.Linear(84, 10))
`;
const TORCH_EXPORT = `${TORCH_NET}
torch.onnx.export(net, torch.zeros(1, 1, 28, 28), sys.argv[1], input_names=['input'], output_names=['logits'],
                  dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, opset_version=13)
print(torch.__version__)
`;
const TORCH_TRAIN = `${TORCH_NET}
torch.set_num_threads(int(sys.argv[3]))
opt = torch.optim.SGD(net.parameters(), lr=0.01)
loss_fn = nn.CrossEntropyLoss()
x = torch.rand(128, 1, 28, 28); y = torch.randint(0, 10, (128,))
times = []
for i in range(int(sys.argv[4])):
    t = time.perf_counter(); opt.zero_grad(); loss_fn(net(x), y).backward(); opt.step(); times.append(time.perf_counter() - t)
times = sorted(times[5:])
print('RESULT', torch.__version__, times[len(times) // 2] * 1000, len(times))
`;

function benchOptions() {
  return { time: quick ? 300 : 1500, warmupTime: quick ? 100 : 400, warmupIterations: 5, iterations: 10 };
}

async function child(variantName) {
  const variant = VARIANTS[variantName];
  const backend = variant.backend === 'ort-node' ? ortNodeBackend : ortWebBackend;
  const spec = getPreset(modelName);
  const options = { threads: variant.threads, maxBatchSize: 256 };
  const session = await backend.createTrainingSession(spec, initWeights(spec, 0), options);
  const x = randomImages(1, 256, 784);
  const y = randomLabels(2, 256, 10);
  const bench = new Bench(benchOptions());
  bench.add('predict b1', async () => { await session.predict(x, 1); });
  bench.add('predict b256', async () => { await session.predict(x, 256); });
  bench.add('train b128', async () => { await session.trainStep(x, y, 128, 0.01); });
  await bench.run();
  // Our export vs the torch.onnx export: both as raw InferenceSessions with identical options,
  // runs interleaved (A, B, A, B, …) so that load changes hit both alike.
  let exportAB = null;
  const torchFile = opt('--torch-onnx', null);
  if (variant.torchExport && torchFile) {
    const { createRequire } = await import('node:module');
    const { readFileSync } = await import('node:fs');
    const { exportOnnx } = await import('@lenet/backend-onnxruntime');
    // onnxruntime-node is the backend package's dependency, not this folder's: resolve it from there.
    const ort = createRequire(fileURLToPath(import.meta.resolve('@lenet/backend-onnxruntime/package.json')))('onnxruntime-node');
    const sessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: variant.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' };
    const models = {
      ours: await ort.InferenceSession.create(exportOnnx(spec, initWeights(spec, 0)), sessionOptions),
      torch: await ort.InferenceSession.create(readFileSync(torchFile), sessionOptions),
    };
    exportAB = {};
    for (const n of [1, 256]) {
      const feeds = { input: new ort.Tensor('float32', x.subarray(0, n * 784), [n, 1, 28, 28]) };
      const times = { ours: [], torch: [] };
      const rounds = quick ? 40 : n === 1 ? 400 : 120;
      for (let r = 0; r < rounds + 10; r++) {
        for (const k of ['ours', 'torch']) {
          const t = performance.now();
          await models[k].run(feeds);
          if (r >= 10) times[k].push(performance.now() - t);
        }
      }
      const med = (a) => a.sort((p, q) => p - q)[a.length >> 1];
      const ours = med(times.ours);
      const torch = med(times.torch);
      exportAB[`b${n}`] = { oursMedianMs: ours, torchExportMedianMs: torch, oursImgPerSec: n / (ours / 1000), torchExportImgPerSec: n / (torch / 1000), oursOverTorchThroughput: torch / ours, rounds };
    }
    for (const s of Object.values(models)) await s.release();
  }
  const info = await backend.info(options);
  const task = (name) => bench.tasks.find((t) => t.name === name)?.result;
  const row = (name, batch) => {
    const r = task(name);
    if (!r || !r.latency) return null;
    return { medianMs: r.latency.p50, madMs: r.latency.mad, p99Ms: r.latency.p99, imgPerSec: batch / (r.latency.p50 / 1000), samples: r.latency.samplesCount };
  };
  await session.dispose();
  return {
    variant: variantName,
    runtime: info.runtime,
    versions: info.versions,
    threads: info.threads ?? variant.threads,
    predictB1: row('predict b1', 1),
    predictB256: row('predict b256', 256),
    trainB128: row('train b128', 128),
    exportVsTorchExport: exportAB,
  };
}

if (args.includes('--child')) {
  const result = await child(opt('--child'));
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

function python(script, argv) {
  return spawnSync(PYTHON, ['-c', script, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 });
}

const fmt = (v, digits = 0) => (v === null || v === undefined ? '-' : v.toFixed(digits));
const only = opt('--only', null)?.split(',');
console.log(
  `@lenet/backend-onnxruntime on ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, node ${process.versions.node}, ` +
    `load ${loadavg().map((v) => v.toFixed(2)).join(' ')}`,
);
console.log(`model ${modelName}; medians of tinybench samples; one child process per variant\n`);

// PyTorch peers (optional).
const tmp = mkdtempSync(join(tmpdir(), 'ort-bench-'));
let torch = { available: false, reason: '--no-torch' };
let torchOnnx = null;
if (!args.includes('--no-torch')) {
  const exp = python(TORCH_EXPORT, [join(tmp, 'torch_lenet.onnx'), modelName]);
  if (exp.status === 0) {
    torchOnnx = join(tmp, 'torch_lenet.onnx');
    torch = { available: true, version: exp.stdout.trim().split('\n').pop() };
  } else {
    torch = { available: false, reason: (exp.error?.message ?? exp.stderr.trim().split('\n').pop()) || 'python3/torch not usable' };
    console.log(`PyTorch peers skipped: ${torch.reason}`);
  }
}
function torchTrain() {
  const r = python(TORCH_TRAIN, ['-', modelName, '2', quick ? '25' : '80']);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) return null;
  const [, version, ms, n] = line.split(' ');
  return { version, threads: 2, medianMs: Number(ms), imgPerSec: 128 / (Number(ms) / 1000), samples: Number(n) };
}

const rows = [];
let pytorchBefore = null;
if (torch.available) pytorchBefore = torchTrain();
for (const name of Object.keys(VARIANTS)) {
  if (only && !only.includes(name)) continue;
  const passThrough = args.filter((a) => a !== '--child');
  const extra = torchOnnx ? ['--torch-onnx', torchOnnx] : [];
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), ...passThrough, ...extra, '--child', name], {
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
    `${name.padEnd(12)} b1 ${fmt(row.predictB1?.medianMs, 3).padStart(6)} ms  b256 ${fmt(row.predictB256?.imgPerSec).padStart(6)} img/s  ` +
      `train b128 ${fmt(row.trainB128?.imgPerSec).padStart(6)} img/s (step ${fmt(row.trainB128?.medianMs, 1)} ms)  ${row.runtime}`,
  );
  const ab = row.exportVsTorchExport;
  if (ab) {
    console.log(
      `${''.padEnd(12)} raw sessions, interleaved: our export b1 ${fmt(ab.b1.oursMedianMs, 3)} ms / torch.onnx export ${fmt(ab.b1.torchExportMedianMs, 3)} ms; ` +
        `b256 ${fmt(ab.b256.oursImgPerSec)} / ${fmt(ab.b256.torchExportImgPerSec)} img/s (ours / torch = ${ab.b256.oursOverTorchThroughput.toFixed(2)})`,
    );
  }
}
const pytorchAfter = torch.available ? torchTrain() : null;
rmSync(tmp, { recursive: true, force: true });

const pyt = [pytorchBefore, pytorchAfter].filter(Boolean);
const pytorch = pyt.length ? { ...pyt[0], imgPerSec: pyt.reduce((a, b) => a + b.imgPerSec, 0) / pyt.length, runs: pyt } : null;
const ratios = {};
if (pytorch) {
  console.log(`\npytorch ${pytorch.version} train b128 (2 threads): ${pyt.map((p) => fmt(p.imgPerSec)).join(' / ')} img/s (before / after the ORT runs)`);
  for (const row of rows) {
    if (row.trainB128) {
      ratios[`${row.variant} train / pytorch`] = row.trainB128.imgPerSec / pytorch.imgPerSec;
      console.log(`${row.variant.padEnd(12)} train b128 / pytorch = ${(row.trainB128.imgPerSec / pytorch.imgPerSec).toFixed(2)}x`);
    }
  }
}

const out = {
  suite: 'ort',
  date: new Date().toISOString(),
  model: modelName,
  quick,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.versions.node, loadavg: loadavg() },
  note: 'Shared, noisy machine: compare ratios from one run. Medians of tinybench latency samples.',
  torch,
  results: rows,
  pytorchTrainB128: pytorch,
  ratios,
};
mkdirSync(join(here, 'results'), { recursive: true });
const file = join(here, 'results', 'ort.json');
writeFileSync(`${file}.tmp`, `${JSON.stringify(out, null, 2)}\n`);
renameSync(`${file}.tmp`, file);
console.log(`\nwrote ${file}`);
