/**
 * The GPU backends in Chromium (software WebGL/WebGPU here: SwiftShader), through the
 * @lenet/core contract only: tfjs-webgl, tfjs-webgpu and ort-web-webgpu predict 64 Fashion-MNIST
 * test images with logits within 1e-3 of @lenet/core's float64 reference and the same
 * predictions as the same package's CPU backend in Node; tfjs-webgl trains a few SGD steps with
 * losses within 1e-3 of tfjs-cpu in Node on the same batches. Each backend reports its adapter
 * and the software-fallback flag. The page under test is test/gpu-page (bundled by Vite here).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend, TrainingBackend } from '@lenet/core';
import { argmax, referenceForward } from '@lenet/core';
import { Batcher, splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset, initWeights, type ModelSpec, type Weights } from '@lenet/model';
import { ortNodeBackend } from '@lenet/backend-onnxruntime';
import { tfjsCpuBackend } from '@lenet/backend-tfjs';
import type { GpuAnswer, GpuJob, JsonWeights } from './gpu-page/main.js';
import { trainedPlainWeights } from './page.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = '/usr/bin/chromium';
const IMAGES = 64;
const TRAIN_STEPS = 3;
const TRAIN_BATCH = 32;
const LR = 0.9; // d2l's LeNet learning rate
/** Software WebGL (SwiftShader) and WebGPU (its fallback adapter) when there is no GPU; no --disable-gpu. */
const GPU_ARGS = ['--headless=new', '--no-sandbox', '--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

const json = (w: Weights): JsonWeights => Object.fromEntries([...w].map(([k, v]) => [k, { shape: [...v.shape], data: Array.from(v.data) }]));

function serve(root: string): Promise<{ server: Server; url: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
    const p = join(root, path === '/' ? 'index.html' : path);
    if (!p.startsWith(root) || !existsSync(p) || !statSync(p).isFile()) return void res.writeHead(404).end();
    // Cross-origin isolated, as the app is served.
    res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }).end(readFileSync(p));
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` })));
}

async function nodeLogits(backend: Backend, spec: ModelSpec, weights: Weights, x: Float32Array, n: number): Promise<Float32Array> {
  const s = await backend.createSession(spec, weights, { threads: 1 });
  try {
    return await s.predict(x, n);
  } finally {
    await s.dispose();
  }
}

const predictions = (logits: ArrayLike<number>, n: number) => Array.from({ length: n }, (_, i) => argmax(logits, i * 10, 10));
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe.skipIf(!existsSync(CHROMIUM))(`GPU backends in Chromium with software WebGL/WebGPU (needs ${CHROMIUM})`, () => {
  let tmp: string;
  let server: Server;
  let url: string;
  let close: () => Promise<void> = async () => undefined;
  let page: import('playwright-core').Page;
  let test: ImageSplit;
  let trainSplit: ImageSplit;
  // lenet5-modern after 60 SGD steps (as the app's e2e test): confident predictions, no near-ties.
  const spec = getPreset('lenet5-modern');
  let weights: Weights;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lenet-gpu-'));
    const { build } = await import('vite');
    const built = build({ root: join(HERE, 'gpu-page'), configFile: false, logLevel: 'warn', base: './', build: { outDir: tmp, emptyOutDir: true, minify: false, target: 'es2022', chunkSizeWarningLimit: 1e9 } });
    const data = await loadDataset('fashion-mnist', { download: false });
    test = stratifiedSubset(data.test, IMAGES, 0);
    trainSplit = stratifiedSubset(data.train, 7680, 0);
    weights = await trainedPlainWeights(spec, data.train, test, 60);
    await built;
    ({ server, url } = await serve(tmp));
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: GPU_ARGS });
    close = async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    };
    page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction(() => 'lenetGpu' in window);
  }, 180_000);

  afterAll(async () => {
    await close();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const runJob = (job: GpuJob) => page.evaluate((j) => (window as unknown as { lenetGpu: { run(j: GpuJob): Promise<GpuAnswer> } }).lenetGpu.run(j), job);

  it.each([
    ['tfjs-webgl', tfjsCpuBackend],
    ['tfjs-webgpu', tfjsCpuBackend],
    ['ort-web-webgpu', ortNodeBackend],
  ] as const)('%s predicts 64 test images within 1e-3 of the float64 reference, same predictions as Node', async (id, nodeBackend) => {
    const x = splitToFloat(test);
    const answer = await runJob({ backend: id, spec, weights: json(weights), images: Array.from(x), n: IMAGES, steps: [], lr: LR });
    expect(answer.available, String(answer.available)).toBe(true);
    // No GPU on this machine: Chromium's SwiftShader, which the backend must flag.
    expect(answer.info!.adapter).toMatch(/swiftshader/i);
    expect(answer.info!.softwareFallback).toBe(true);
    const ref = referenceForward(spec, weights, x, IMAGES);
    const diff = maxAbsDiff(answer.logits, ref);
    expect(diff, `${id} max |logit - float64 reference|`).toBeLessThan(1e-3);
    const node = await nodeLogits(nodeBackend, spec, weights, x, IMAGES);
    expect(predictions(answer.logits, IMAGES), `${id} vs ${nodeBackend.name} in Node`).toEqual(predictions(node, IMAGES));
    expect(predictions(answer.logits, IMAGES)).toEqual(predictions(ref, IMAGES));
    console.log(`${id}: ${answer.info!.runtime}; ${answer.info!.adapter}; max |Δlogit| vs float64 ${diff.toExponential(2)}; predict(64) ${answer.ms.predict.toFixed(0)} ms (first call)`);
  }, 120_000);

  /** The first `count` batches of the seeded Batcher (copied: it reuses one Batch object). */
  function firstBatches(count: number): { x: Float32Array; y: Int32Array; n: number }[] {
    const batches: { x: Float32Array; y: Int32Array; n: number }[] = [];
    for (const b of new Batcher(trainSplit, { batchSize: TRAIN_BATCH, seed: 0 }).epoch(0)) {
      batches.push({ x: b.x.slice(0, b.n * 784), y: Int32Array.from(b.y.subarray(0, b.n)), n: b.n });
      if (batches.length === count) break;
    }
    return batches;
  }

  /** Losses of `steps` SGD steps in the page and with `nodeBackend` in Node, from d2l's lenet5 seed-0 init. */
  async function trainBoth(id: string, nodeBackend: TrainingBackend, steps: number) {
    const d2l = getPreset('lenet5'); // sigmoid, average pooling: no argmax ties in the gradients
    const init = initWeights(d2l, 0);
    const batches = firstBatches(steps);
    const answer = await runJob({ backend: id, spec: d2l, weights: json(init), images: Array.from(splitToFloat(test, 0, 1)), n: 1, steps: batches.map((b) => ({ x: Array.from(b.x), y: Array.from(b.y), n: b.n })), lr: LR });
    expect(answer.available, String(answer.available)).toBe(true);
    expect(answer.canTrain).toBe(true);
    const node = await nodeBackend.createTrainingSession(d2l, init, { threads: 1 });
    const expected: number[] = [];
    try {
      for (const b of batches) expected.push(await node.trainStep(b.x, b.y, b.n, LR));
    } finally {
      await node.dispose();
    }
    expect(answer.losses).toHaveLength(steps);
    for (let i = 0; i < steps; i++) expect(Math.abs(answer.losses[i]! - expected[i]!), `step ${i}: ${id} ${answer.losses[i]} vs ${nodeBackend.name} ${expected[i]}`).toBeLessThan(1e-3);
    console.log(`${id} losses ${answer.losses.map((l) => l.toFixed(6)).join(', ')} vs ${nodeBackend.name} in Node ${expected.map((l) => l.toFixed(6)).join(', ')}; ${steps} steps of ${TRAIN_BATCH} in ${answer.ms.train.toFixed(0)} ms`);
  }

  it('tfjs-webgl trains: losses of 3 SGD steps within 1e-3 of tfjs-cpu in Node on the same batches', () => trainBoth('tfjs-webgl', tfjsCpuBackend, TRAIN_STEPS), 120_000);

  it('ort-web-webgpu trains: the loss of one SGD step within 1e-3 of ort-node in Node', () => trainBoth('ort-web-webgpu', ortNodeBackend, 1), 120_000);
});
