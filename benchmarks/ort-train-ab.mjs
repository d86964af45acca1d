#!/usr/bin/env node
// Before/after training throughput of the ORT backends, interleaved in one run: ort-node
// (2 threads) and ort-web (1 and 2 threads; the wasm runtime fixes its thread count once per
// process, so each runs in its own worker process) train at batch 128 on real Fashion-MNIST
// batches through the backend API (createSession + trainStep), alternating windows of the
// baseline build and the current build, round-robin with a PyTorch training loop (batch 128,
// random data) for the ratio. Quotes medians over windows and the median of per-round ratios.
// The machine is shared and noisy: only ratios from this one run mean anything.
//   node ort-train-ab.mjs [--baseline <dir of an older backend-onnxruntime dist>] [--rounds 7]
//                         [--steps 15] [--models lenet5,lenet5-modern] [--systems ort-node-2t,ort-web-1t,ort-web-2t]
//                         [--no-torch] [--json out.json]
// Worker mode (internal): node ort-train-ab.mjs --worker ort-web --threads 2 --baseline <dir>
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const here = fileURLToPath(new URL('.', import.meta.url));
const BASELINE = resolve(opt('--baseline', resolve(here, '../packages/backend-onnxruntime/.tmp/baseline-dist')));
const PYTHON = process.env.LENET_PYTHON ?? '/usr/bin/python3';

// ---------------------------------------------------------------- worker (one backend, one thread count)
async function worker(backendName, threads) {
  const [{ Batcher }, { loadDataset }, { getPreset, initWeights }] = await Promise.all([
    import('@lenet/datasets'),
    import('@lenet/datasets/node'),
    import('@lenet/model'),
  ]);
  const impls = {
    old: await import(pathToFileURL(resolve(BASELINE, 'index.js')).href),
    new: await import('@lenet/backend-onnxruntime'),
  };
  const { train } = await loadDataset('fashion-mnist');
  const batcher = new Batcher(train, { batchSize: 128, seed: 0 });
  const order = batcher.epochOrder(0);
  const batches = Array.from({ length: 64 }, (_, i) => {
    const b = batcher.fill(order, i * 128, 128);
    return { x: b.x.slice(0, 128 * 784), y: b.y.slice(0, 128) };
  });
  const sessions = new Map();
  let next = 0;
  let info = '';
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line);
    const key = `${cmd.impl} ${cmd.model}`;
    if (!sessions.has(key)) {
      const backend = impls[cmd.impl].backends.find((b) => b.name === backendName);
      const spec = getPreset(cmd.model);
      const s = await backend.createSession(spec, initWeights(spec, 0), { threads });
      for (let i = 0; i < 3; i++) await s.trainStep(batches[i].x, batches[i].y, 128, 0.1); // warm-up
      sessions.set(key, s);
      if (!info) info = (await backend.info({ threads })).runtime;
    }
    const s = sessions.get(key);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    let loss = 0;
    for (let i = 0; i < cmd.steps; i++) {
      const b = batches[next++ % batches.length];
      loss = await s.trainStep(b.x, b.y, 128, 0.1);
    }
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    process.stdout.write(`${JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, loss, info })}\n`);
  }
  for (const s of sessions.values()) await s.dispose();
}

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
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    return net, opt
x = torch.rand(128, 1, 28, 28); y = torch.randint(0, 10, (128,)); loss_fn = nn.CrossEntropyLoss()
import os
# Debian's torch links libblas.so.3; which BLAS that is (reference or OpenBLAS) is the alternatives link.
blas = sorted({os.path.realpath(l.split()[-1]) for l in open('/proc/self/maps') if 'blas' in l.lower() and l.split()[-1].startswith('/')})
info = f"torch {torch.__version__}, {torch.get_num_threads()} threads, BLAS loaded: {', '.join(blas) or 'none found'}"
for line in sys.stdin:
    cmd = json.loads(line)
    if cmd['model'] not in nets:
        nets[cmd['model']] = make(cmd['model'])
        net, opt = nets[cmd['model']]
        for _ in range(3): opt.zero_grad(); loss_fn(net(x), y).backward(); opt.step()
    net, opt = nets[cmd['model']]
    t = time.perf_counter(); c = time.process_time()
    for _ in range(cmd['steps']):
        opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step()
    print(json.dumps({'ms': (time.perf_counter() - t) * 1000, 'cpuMs': (time.process_time() - c) * 1000, 'loss': float(loss), 'info': info}), flush=True)
`;

function startWorker(name, command, argv) {
  const child = spawn(command, argv, { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    name,
    async run(cmd) {
      child.stdin.write(`${JSON.stringify(cmd)}\n`);
      const r = await lines.next();
      if (r.done) throw new Error(`worker ${name} exited`);
      return JSON.parse(r.value);
    },
    stop() {
      child.stdin.end();
    },
  };
}

async function coordinator() {
  const rounds = Number(opt('--rounds', '7'));
  const steps = Number(opt('--steps', '15'));
  const models = opt('--models', 'lenet5,lenet5-modern').split(',');
  const self = fileURLToPath(import.meta.url);
  const systems = opt('--systems', 'ort-node-2t,ort-web-1t,ort-web-2t').split(',');
  const workers = systems.map((sys) => {
    const m = /^(ort-node|ort-web)-(\d+)t$/.exec(sys);
    if (!m) throw new Error(`--systems: unknown system "${sys}" (expected e.g. ort-node-2t, ort-web-1t)`);
    return startWorker(`${m[1]} ${m[2]}t`, process.execPath, [self, '--worker', m[1], '--threads', m[2], '--baseline', BASELINE]);
  });
  const torch = args.includes('--no-torch') ? undefined : startWorker('pytorch 2t', PYTHON, ['-c', TORCH_WORKER, '2']);
  const cells = new Map(); // "model|system|impl" -> img/s per round
  const infos = new Map();
  const add = (key, imgs) => cells.set(key, [...(cells.get(key) ?? []), imgs]);
  // Images per CPU-second (all threads of the process): less sensitive to other jobs taking the
  // cores than wall time, but counts spin-waiting of thread pools as work.
  const cpuCells = new Map();
  const addCpu = (key, v) => cpuCells.set(key, [...(cpuCells.get(key) ?? []), v]);
  const started = new Date().toISOString();
  const load0 = loadavg();
  for (let r = 0; r < rounds; r++) {
    for (const model of models) {
      for (const w of workers) {
        // Alternate which build goes first so drift does not favour one.
        for (const impl of r % 2 === 0 ? ['old', 'new'] : ['new', 'old']) {
          const res = await w.run({ model, impl, steps });
          add(`${model}|${w.name}|${impl}`, (128 * steps * 1000) / res.ms);
          addCpu(`${model}|${w.name}|${impl}`, (128 * steps * 1000) / res.cpuMs);
          infos.set(w.name, res.info);
        }
      }
      if (torch) {
        const res = await torch.run({ model, steps });
        add(`${model}|${torch.name}|-`, (128 * steps * 1000) / res.ms);
        addCpu(`${model}|${torch.name}|-`, (128 * steps * 1000) / res.cpuMs);
        infos.set(torch.name, res.info);
      }
    }
    process.stderr.write(`round ${r + 1}/${rounds} done\n`);
  }
  for (const w of [...workers, ...(torch ? [torch] : [])]) w.stop();

  const median = (v) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const fmt = (v, d = 0) => v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
  const out = [];
  out.push(`Interleaved A/B, ${rounds} rounds x ${steps} steps per window, batch 128, Fashion-MNIST (ORT) / random data (PyTorch)`);
  out.push(`machine: ${cpus()[0].model}, ${availableParallelism()} hardware threads, shared; load ${load0.map((l) => l.toFixed(1)).join(' ')} at start, ${loadavg().map((l) => l.toFixed(1)).join(' ')} at end; ${started}`);
  for (const [name, info] of infos) out.push(`- ${name}: ${info}`);
  out.push('');
  out.push('| model | system | before img/s (median) | after img/s (median) | after/before (median of rounds) | before / PyTorch | after / PyTorch | before img per CPU-s | after img per CPU-s |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  const json = [];
  for (const model of models) {
    const torchRounds = cells.get(`${model}|pytorch 2t|-`);
    for (const w of workers) {
      const before = cells.get(`${model}|${w.name}|old`);
      const after = cells.get(`${model}|${w.name}|new`);
      const ratio = median(after.map((a, i) => a / before[i]));
      const vsTorch = (v) => (torchRounds ? fmt(median(v.map((a, i) => a / torchRounds[i])), 2) + '×' : '–');
      const cpuB = cpuCells.get(`${model}|${w.name}|old`);
      const cpuA = cpuCells.get(`${model}|${w.name}|new`);
      out.push(`| ${model} | ${w.name} | ${fmt(median(before))} | ${fmt(median(after))} | ${fmt(ratio, 2)}× | ${vsTorch(before)} | ${vsTorch(after)} | ${fmt(median(cpuB))} | ${fmt(median(cpuA))} |`);
      json.push({ model, system: w.name, before, after, cpuBefore: cpuB, cpuAfter: cpuA, torch: torchRounds });
    }
    if (torchRounds) out.push(`| ${model} | pytorch 2t | ${fmt(median(torchRounds))} | | | | | ${fmt(median(cpuCells.get(`${model}|pytorch 2t|-`)))} | |`);
  }
  console.log(out.join('\n'));
  const jsonPath = opt('--json', undefined);
  if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ started, rounds, steps, infos: Object.fromEntries(infos), cells: json }, null, 2));
}

if (args.includes('--worker')) await worker(opt('--worker'), Number(opt('--threads', '1')));
else await coordinator();
