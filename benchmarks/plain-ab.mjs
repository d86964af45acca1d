#!/usr/bin/env node
// Before/after speed of the plain backend (WebAssembly SIMD tier), interleaved in ONE process:
// the baseline build (an older packages/backend-plain/dist copied aside) and the current build
// are loaded side by side and measured in alternating windows (the order flips every round),
// round-robin with a PyTorch subprocess doing the same work, for the ratios the targets are
// stated in. Cells: train b128 (img/s), predict b256 (img/s), predict b1 (p50 latency), per
// model, sessions with --threads threads. Quotes medians over windows, the median of per-window
// ratios, and images per CPU-second of the process (all threads; less sensitive than wall time
// to other jobs taking the cores). Then a per-layer breakdown (one thread, Engine timer hook)
// of both builds, also interleaved. The machine is shared and noisy: only ratios from one run
// mean anything, and no single window does.
//   node plain-ab.mjs [--baseline <dir of an older backend-plain dist>] [--rounds 15] [--threads 2]
//                     [--models lenet5,lenet5-modern] [--no-torch] [--no-layers] [--json out.json]
//   node plain-ab.mjs --kernels [--windows 201]   # only LeNet's GEMM calls and the direct convolutions, both builds
//   node plain-ab.mjs --layers-only [--windows 31] [--models ...]   # only the per-layer breakdown
//   node plain-ab.mjs --tiers [...]   # the current build's two WebAssembly tiers instead of two builds:
//                                     # "before" = SIMD128 (mul+add), "after" = relaxed SIMD (relaxed_madd)
//                                     # (Node 20 needs --experimental-wasm-relaxed-simd)
// Make a baseline first, from the commit to compare against:
//   cp -r packages/backend-plain/dist packages/backend-plain/.tmp/baseline-dist
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomImages, randomLabels } from '@lenet/core';
import { flattenWeights, getPreset, initWeights } from '@lenet/model';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const here = fileURLToPath(new URL('.', import.meta.url));
const BASELINE = resolve(opt('--baseline', resolve(here, '../packages/backend-plain/.tmp/baseline-dist')));
const PYTHON = process.env.LENET_PYTHON ?? '/usr/bin/python3';
const ROUNDS = Number(opt('--rounds', '15'));
const THREADS = Number(opt('--threads', '2'));
const MODELS = opt('--models', 'lenet5,lenet5-modern').split(',');
// Work per window: ~0.1-0.3 s per cell at the speeds seen here.
const TRAIN_STEPS = 8;
const B256_REPS = 12;
const B1_CALLS = 400;

/** The current build with its WebAssembly tier forced (sessions, info and the layer breakdown). */
async function tierImpl(tier) {
  const lib = await import('@lenet/backend-plain');
  return { ...lib, plainBackend: new lib.PlainBackend('plain', lib.plainBackend.description, true, tier), loadWasmModule: () => lib.loadWasmModule(tier) };
}
const TIERS = args.includes('--tiers');
const impls = TIERS
  ? { old: await tierImpl('simd128'), new: await tierImpl('relaxed-simd') }
  : {
      old: await import(pathToFileURL(resolve(BASELINE, 'index.js')).href),
      new: await import('@lenet/backend-plain'),
    };

const x = randomImages(1, 256, 784);
const y = randomLabels(2, 256, 10);

const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuMs = (c0) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

// ---------------------------------------------------------------- PyTorch (same work, 2 threads)
const TORCH_WORKER = `
import sys, json, time, torch, torch.nn as nn
torch.set_num_threads(int(sys.argv[1]))
nets = {}
def make(name):
    modern = name == 'lenet5-modern'
    A = nn.ReLU if modern else nn.Sigmoid
    P = nn.MaxPool2d if modern else nn.AvgPool2d
    net = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), A(), P(2, 2), nn.Conv2d(6, 16, 5), A(), P(2, 2), nn.Flatten(),
                        nn.Linear(400, 120), A(), nn.Linear(120, 84), A(), nn.Linear(84, 10))
    return net, torch.optim.SGD(net.parameters(), lr=0.1)
x = torch.rand(256, 1, 28, 28); y = torch.randint(0, 10, (128,)); loss_fn = nn.CrossEntropyLoss()
import os
blas = sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'blas' in l.lower() and l.split()[-1].startswith('/')})
info = f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS loaded: {', '.join(blas) or 'none found'}"
def train(net, opt, steps):
    for _ in range(steps):
        opt.zero_grad(); loss_fn(net(x[:128]), y).backward(); opt.step()
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd['model'] not in nets:
        nets[cmd['model']] = make(cmd['model'])
        train(*nets[cmd['model']], 3)
    net, opt = nets[cmd['model']]
    t = time.perf_counter(); c = time.process_time(); out = {}
    if cmd['cell'] == 'train':
        train(net, opt, cmd['n'])
    elif cmd['cell'] == 'b256':
        with torch.no_grad():
            for _ in range(cmd['n']): net(x)
    else:
        lat = []
        with torch.no_grad():
            x1 = x[:1]
            for _ in range(cmd['n']):
                t1 = time.perf_counter(); net(x1); lat.append(time.perf_counter() - t1)
        lat.sort(); out['p50Ms'] = lat[len(lat) // 2] * 1000
    out.update({'ms': (time.perf_counter() - t) * 1000, 'cpuMs': (time.process_time() - c) * 1000, 'info': info})
    print(json.dumps(out), flush=True)
`;


// conv1's forward for one sample: directly (builds that have convForward) or the old way,
// im2col + bias + GEMM with the patch matrix at 100000.
const conv1Direct = (g1, kernels, mem) => kernels.convForward(g1, mem, 0, mem, 10000, mem, 20000, mem, 300000, mem, 30000);
const conv1Im2col = (g1, kernels, mem) => {
  kernels.im2col(g1, mem, 0, mem, 100000);
  kernels.fillRows(6, 784, mem, 20000, mem, 30000);
  kernels.gemm(6, 784, 25, mem, 10000, 25, 1, mem, 100000, 784, 1, mem, 30000, true);
};

function startTorch() {
  const child = spawn(PYTHON, ['-c', TORCH_WORKER, String(THREADS)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    async run(cmd) {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      const r = await lines.next();
      if (r.done) throw new Error('the PyTorch worker exited');
      return JSON.parse(r.value);
    },
    stop: () => child.stdin.end(),
  };
}

// ---------------------------------------------------------------- plain cells
const sessions = new Map();
async function session(impl, model) {
  const key = `${impl} ${model}`;
  if (!sessions.has(key)) {
    const spec = getPreset(model);
    // createSession, not createTrainingSession: the other build may predate it (both give the one PlainSession).
    const s = await impls[impl].plainBackend.createSession(spec, initWeights(spec, 0), { threads: THREADS, maxBatchSize: 256 });
    for (let i = 0; i < 5; i++) {
      await s.trainStep(x, y, 128, 0.01);
      await s.predict(x, 256);
    }
    for (let i = 0; i < 200; i++) await s.predict(x, 1);
    sessions.set(key, s);
  }
  return sessions.get(key);
}

/** One window of one cell: { value (img/s or p50 ms), imgPerCpuS }. */
async function plainCell(impl, model, cell) {
  const s = await session(impl, model);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  if (cell === 'train') {
    for (let i = 0; i < TRAIN_STEPS; i++) await s.trainStep(x, y, 128, 0.01);
    const ms = performance.now() - t0;
    return { value: (128 * TRAIN_STEPS * 1000) / ms, imgPerCpuS: (128 * TRAIN_STEPS * 1000) / cpuMs(c0) };
  }
  if (cell === 'b256') {
    for (let i = 0; i < B256_REPS; i++) await s.predict(x, 256);
    const ms = performance.now() - t0;
    return { value: (256 * B256_REPS * 1000) / ms, imgPerCpuS: (256 * B256_REPS * 1000) / cpuMs(c0) };
  }
  const lat = new Float64Array(B1_CALLS);
  for (let i = 0; i < B1_CALLS; i++) {
    const t1 = performance.now();
    await s.predict(x, 1);
    lat[i] = performance.now() - t1;
  }
  return { value: median(lat), imgPerCpuS: (B1_CALLS * 1000) / cpuMs(c0) };
}

async function torchCell(torch, model, cell) {
  const n = cell === 'train' ? TRAIN_STEPS : cell === 'b256' ? B256_REPS : B1_CALLS;
  const r = await torch.run({ model, cell, n });
  const imgs = cell === 'train' ? 128 * n : cell === 'b256' ? 256 * n : n;
  const value = cell === 'b1' ? r.p50Ms : (imgs * 1000) / r.ms;
  return { value, imgPerCpuS: (imgs * 1000) / r.cpuMs, info: r.info };
}

// ---------------------------------------------------------------- per-layer breakdown
/** One thread's Engine per build and model; per-op medians of us/image over interleaved windows. */
async function layerBreakdown(model, windows) {
  const spec = getPreset(model);
  const params = flattenWeights(spec, initWeights(spec, 0));
  const engines = {};
  for (const [impl, lib] of Object.entries(impls)) {
    const plan = lib.buildPlan(spec, lib.CHUNK);
    const module = await lib.loadWasmModule();
    if (typeof module === 'string') throw new Error(`${impl}: ${module}`);
    const a = lib.instantiateWasm(module, plan.arena.size);
    const e = new lib.Engine(plan, a.kernels, a.mem);
    e.loadParams(params, 0);
    engines[impl] = e;
  }
  const CH = impls.new.CHUNK;
  const losses = new Float64Array(CH);
  const modes = [['train m16', CH, true], ['predict m16', CH, false], ['predict m1', 1, false]];
  const samples = {}; // impl|mode|phase:op -> us/img per window
  for (let w = 0; w < windows; w++) {
    for (const impl of w % 2 ? ['old', 'new'] : ['new', 'old']) {
      const e = engines[impl];
      for (const [mode, m, train] of modes) {
        const acc = new Map();
        e.timer = (o, phase, ms) => acc.set(`${phase}:${o}`, (acc.get(`${phase}:${o}`) ?? 0) + ms);
        const reps = m === 1 ? 60 : 8;
        for (let r = 0; r < reps; r++) {
          e.forward(x, 0, m, train);
          if (train) e.backward(y, 0, m, 1 / m, losses, 0);
        }
        e.timer = null;
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) {
          e.forward(x, 0, m, train);
          if (train) e.backward(y, 0, m, 1 / m, losses, 0);
        }
        const untimed = ((performance.now() - t0) * 1000) / (reps * m);
        for (const [k, ms] of acc) (samples[`${impl}|${mode}|${k}`] ??= []).push((ms * 1000) / (reps * m));
        (samples[`${impl}|${mode}|total`] ??= []).push(untimed);
      }
    }
  }
  const plan = engines.new.plan;
  const rows = [];
  for (const [mode, , train] of modes) {
    const keys = [];
    for (let o = 0; o < plan.ops.length; o++) keys.push([`forward:${o}`, `fwd ${plan.ops[o].label}`]);
    if (train) for (let o = plan.ops.length - 1; o >= plan.firstParamOp; o--) keys.push([`backward:${o}`, `bwd ${plan.ops[o].label}`]);
    keys.push(['total', 'whole pass, untimed']);
    for (const [k, label] of keys) {
      const o = samples[`old|${mode}|${k}`], n = samples[`new|${mode}|${k}`];
      if (!o || !n) continue;
      rows.push({ mode, label, before: median(o), after: median(n), ratio: median(o.map((v, i) => v / n[i])) });
    }
  }
  return rows;
}

// ---------------------------------------------------------------- kernel shapes (--kernels)
/**
 * GEMM calls of LeNet (lenet5, 16-sample chunk / batch 1) and the direct convolutions, each timed on
 * both builds' kernels in alternating short windows; GFLOP/s medians and median per-window ratio.
 */
async function kernelShapes(windows) {
  const arenas = {};
  for (const [impl, lib] of Object.entries(impls)) {
    const module = await lib.loadWasmModule();
    if (typeof module === 'string') throw new Error(`${impl}: ${module}`);
    arenas[impl] = lib.instantiateWasm(module, 1 << 20);
    for (let i = 0; i < 600000; i++) arenas[impl].mem[i] = Math.sin(i * 1.3) * 0.5;
  }
  const gemm = (M, N, K, sAi, sAk, sBk, sBj) => ({ flops: 2 * M * N * K, run: ({ kernels, mem }) =>
    kernels.gemm(M, N, K, mem, 0, sAi, sAk, mem, 200000, sBk, sBj, mem, 400000, false) });
  const g1 = { inChannels: 1, inH: 28, inW: 28, outChannels: 6, kernel: 5, stride: 1, padding: 2, outH: 28, outW: 28 };
  const g2 = { inChannels: 6, inH: 14, inW: 14, outChannels: 16, kernel: 5, stride: 1, padding: 0, outH: 10, outW: 10 };
  const shapes = [
    ['conv1 fwd GEMM 6x784x25', gemm(6, 784, 25, 25, 1, 784, 1)],
    ['conv2 fwd GEMM 16x100x150', gemm(16, 100, 150, 150, 1, 100, 1)],
    ['conv2 dW GEMM 16x150x100', gemm(16, 150, 100, 100, 1, 1, 100)],
    ['conv2 dcol GEMM 150x100x16', gemm(150, 100, 16, 1, 150, 100, 1)],
    ['conv1 dW GEMM 6x25x784', gemm(6, 25, 784, 784, 1, 1, 784)],
    ['fc1 fwd GEMM 16x120x400', gemm(16, 120, 400, 400, 1, 1, 400)],
    ['fc1 fwd GEMM b1 1x120x400', gemm(1, 120, 400, 400, 1, 1, 400)],
    ['fc2 fwd GEMM b1 1x84x120', gemm(1, 84, 120, 120, 1, 1, 120)],
    ['fc1 dW GEMM 120x400x16', gemm(120, 400, 16, 1, 120, 400, 1)],
    ['fc1 dx GEMM 16x400x120', gemm(16, 400, 120, 120, 1, 400, 1)],
    // The conv1 forward of one sample as inference runs it: im2col + bias + GEMM before,
    // convForward (direct) after where the build has it.
    ['conv1 inference forward, 1 sample', { flops: 2 * 6 * 784 * 25, run: ({ kernels, mem }) => {
      if (kernels.convForward) conv1Direct(g1, kernels, mem);
      else conv1Im2col(g1, kernels, mem);
    } }],
    // What this change (the build with convFilterGrad) runs instead of patch matrices: conv1's
    // training forward (before: im2col + bias + GEMM, the patch matrix kept), conv1's filter
    // gradient (before: the dW GEMM on the kept patch matrix) and conv2's inference forward
    // (before: im2col + bias + GEMM).
    ['conv1 train forward, 1 sample', { flops: 2 * 6 * 784 * 25, run: ({ kernels, mem }) => {
      if (kernels.convFilterGrad) conv1Direct(g1, kernels, mem);
      else conv1Im2col(g1, kernels, mem);
    } }],
    ['conv1 dW, 1 sample', { flops: 2 * 6 * 784 * 25, run: ({ kernels, mem }) => {
      if (kernels.convFilterGrad) kernels.convFilterGrad(g1, mem, 0, mem, 10000, mem, 20000, mem, 300000);
      else kernels.gemm(6, 25, 784, mem, 10000, 784, 1, mem, 100000, 1, 784, mem, 20000, true);
    } }],
    ['conv2 inference forward, 1 sample', { flops: 2 * 16 * 100 * 150, run: ({ kernels, mem }) => {
      if (kernels.convFilterGrad) kernels.convForward(g2, mem, 0, mem, 10000, mem, 20000, mem, 300000, mem, 30000);
      else {
        kernels.im2col(g2, mem, 0, mem, 100000);
        kernels.fillRows(16, 100, mem, 20000, mem, 30000);
        kernels.gemm(16, 100, 150, mem, 10000, 150, 1, mem, 100000, 100, 1, mem, 30000, true);
      }
    } }],
  ];
  const rows = [];
  for (const [name, { flops, run }] of shapes) {
    const reps = Math.max(10, Math.round(4e5 / flops));
    const res = { old: [], new: [] };
    for (let w = 0; w < windows; w++) {
      for (const impl of w % 2 ? ['old', 'new'] : ['new', 'old']) {
        const t0 = performance.now();
        for (let r = 0; r < reps; r++) run(arenas[impl]);
        res[impl].push((flops * reps) / (performance.now() - t0) / 1e6);
      }
    }
    rows.push({ name, before: median(res.old), after: median(res.new), ratio: median(res.new.map((v, i) => v / res.old[i])),
      bestBefore: Math.max(...res.old), bestAfter: Math.max(...res.new) });
  }
  return rows;
}

if (args.includes('--kernels')) {
  const windows = Number(opt('--windows', '201'));
  const rows = await kernelShapes(windows);
  const fmt = (v, d = 1) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  console.log(`Kernel shapes, one thread, ${windows} alternating windows; GFLOP/s (mul + add = 2 flops); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log('');
  console.log('| call | before GFLOP/s (median) | after (median) | after/before (median of windows) | before best | after best |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.name} | ${fmt(r.before)} | ${fmt(r.after)} | ${fmt(r.ratio, 2)}× | ${fmt(r.bestBefore)} | ${fmt(r.bestAfter)} |`);
  process.exit(0);
}

// ---------------------------------------------------------------- main
if (args.includes('--layers-only')) {
  const windows = Number(opt('--windows', '31'));
  for (const model of MODELS) {
    console.log(`\nPer-layer breakdown, ${model}, one thread (Engine timer), us per image, medians of ${windows} interleaved windows; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}:\n`);
    console.log('| pass | op | before us/img | after us/img | before/after (median of windows) |\n|---|---|---:|---:|---:|');
    for (const l of await layerBreakdown(model, windows)) console.log(`| ${l.mode} | ${l.label} | ${l.before.toFixed(2)} | ${l.after.toFixed(2)} | ${l.ratio.toFixed(2)}× |`);
  }
  process.exit(0);
}
const torch = args.includes('--no-torch') ? undefined : startTorch();
const cells = ['train', 'b256', 'b1'];
const data = new Map(); // model|cell|system -> [{value, imgPerCpuS}]
const push = (k, v) => data.set(k, [...(data.get(k) ?? []), v]);
let torchInfo = '';
const started = new Date().toISOString();
const load0 = loadavg();
for (let r = 0; r < ROUNDS; r++) {
  for (const model of MODELS) {
    for (const cell of cells) {
      for (const impl of r % 2 === 0 ? ['old', 'new'] : ['new', 'old']) push(`${model}|${cell}|${impl}`, await plainCell(impl, model, cell));
      if (torch) {
        const t = await torchCell(torch, model, cell);
        torchInfo = t.info;
        push(`${model}|${cell}|torch`, t);
      }
    }
  }
  process.stderr.write(`round ${r + 1}/${ROUNDS} done\n`);
}
torch?.stop();
const info = {
  old: (await impls.old.plainBackend.info({ threads: THREADS })).runtime,
  new: (await impls.new.plainBackend.info({ threads: THREADS })).runtime,
};
for (const s of sessions.values()) await s.dispose();

const fmt = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const out = [];
out.push(`Interleaved A/B in one process, ${ROUNDS} rounds; per window: ${TRAIN_STEPS} train steps of 128, ${B256_REPS} predicts of 256, ${B1_CALLS} predicts of 1; random data`);
out.push(`machine: ${cpus()[0]?.model}, ${availableParallelism()} hardware threads, shared; load ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end; node ${process.versions.node}; ${started}`);
out.push(`- before: ${info.old}${TIERS ? ' (current build, tier forced)' : ` (${BASELINE})`}`);
out.push(`- after: ${info.new}`);
if (torch) out.push(`- PyTorch: ${torchInfo}`);
out.push('');
out.push('| model | cell | before (median) | after (median) | after/before (median of windows) | before / PyTorch | after / PyTorch | PyTorch (median) | before img/CPU-s | after img/CPU-s | PyTorch img/CPU-s |');
out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const json = [];
for (const model of MODELS) {
  for (const cell of cells) {
    const b = data.get(`${model}|${cell}|old`), a = data.get(`${model}|${cell}|new`), t = data.get(`${model}|${cell}|torch`);
    // Ratios as "speed-up": img/s after/before, or latency before/after for b1.
    const speed = (p, q) => (cell === 'b1' ? q.value / p.value : p.value / q.value);
    const unit = (v) => (cell === 'b1' ? `${fmt(v * 1000, 1)} us` : fmt(v));
    const vsT = (s) => (t ? `${fmt(median(s.map((w, i) => speed(w, t[i]))), 2)}×` : '–');
    out.push(`| ${model} | ${cell === 'b1' ? 'b1 p50 latency' : cell === 'b256' ? 'predict b256 img/s' : 'train b128 img/s'} | ${unit(median(b.map((w) => w.value)))} | ${unit(median(a.map((w) => w.value)))} | ${fmt(median(a.map((w, i) => speed(w, b[i]))), 3)}× | ${vsT(b)} | ${vsT(a)} | ${t ? unit(median(t.map((w) => w.value))) : '–'} | ${fmt(median(b.map((w) => w.imgPerCpuS)))} | ${fmt(median(a.map((w) => w.imgPerCpuS)))} | ${t ? fmt(median(t.map((w) => w.imgPerCpuS))) : '–'} |`);
    json.push({ model, cell, before: b, after: a, torch: t });
  }
}
out.push('');
out.push('Ratios are speed-ups (>1 = faster): img/s after/before, or p50 latency before/after for b1; "/ PyTorch" likewise per window, then the median.');
let layers;
if (!args.includes('--no-layers')) {
  layers = {};
  for (const model of MODELS) {
    layers[model] = await layerBreakdown(model, Math.max(9, ROUNDS));
    out.push('');
    out.push(`Per-layer breakdown, ${model}, one thread (Engine timer), us per image, medians of ${Math.max(9, ROUNDS)} interleaved windows:`);
    out.push('');
    out.push('| pass | op | before us/img | after us/img | before/after (median of windows) |');
    out.push('|---|---|---:|---:|---:|');
    for (const l of layers[model]) out.push(`| ${l.mode} | ${l.label} | ${fmt(l.before, 2)} | ${fmt(l.after, 2)} | ${fmt(l.ratio, 2)}× |`);
  }
}
console.log(out.join('\n'));
const jsonPath = opt('--json', undefined);
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ started, rounds: ROUNDS, threads: THREADS, info, torchInfo, cells: json, layers }, null, 2));
