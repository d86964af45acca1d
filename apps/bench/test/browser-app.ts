// Shared by browser-bundles.test.ts and outside-user.test.ts: a small app using the packages'
// browser entries, the check that a bundle imports no Node built-in, and running it in Chromium.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join } from 'node:path';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';

// Lives inside apps/bench so that '@lenet/*' resolve as they would in a user's project.
export const ENTRY = `
import { randomImages } from '@lenet/core';
import { Batcher, encodeIdx, parseImageSplit } from '@lenet/datasets';
import { getPreset, initWeights } from '@lenet/model';
import { plainBackend } from '@lenet/backend-plain';
import { tfjsCpuBackend } from '@lenet/backend-tfjs';
import { exportOnnx, importOnnx, ortWebBackend, backends as ortBackends } from '@lenet/backend-onnxruntime';

async function main() {
  const spec = getPreset('lenet5');
  const weights = initWeights(spec, 0);
  const n = 4;
  const pixels = new Uint8Array(n * 784).map((_, i) => (i * 7) % 256);
  const split = parseImageSplit(encodeIdx({ dtype: 'uint8', dims: [n, 28, 28], data: pixels }),
    encodeIdx({ dtype: 'uint8', dims: [n], data: new Uint8Array([0, 1, 2, 3]) }), { dataset: 'fashion-mnist', split: 'test' });
  const batch = [...new Batcher(split, { batchSize: n, seed: 0 }).epoch(0)][0];
  const x = randomImages(1, n, 784);

  const plainInfo = await plainBackend.info();
  const plain = await plainBackend.createSession(spec, weights);
  const plainLogits = Array.from(await plain.predict(batch.x, n));
  const kernel = plain.kernelName;
  let threadsError = '';
  await plainBackend.createSession(spec, weights, { threads: 2 }).catch((e) => (threadsError = e.message));
  await plain.dispose();

  const tf = await tfjsCpuBackend.createSession(spec, weights);
  const tfLogits = Array.from(await tf.predict(x, n));
  await tf.dispose();

  const back = importOnnx(exportOnnx(spec, weights), 'browser.onnx');
  return {
    plainRuntime: plainInfo.runtime, kernel, threadsError, plainLogits, tfLogits,
    onnxLayers: back.spec.layers.length, ortWeb: await ortWebBackend.available(), ortBackends: ortBackends.map((b) => b.name),
  };
}
window.lenetResult = main().catch((e) => ({ error: String(e && e.stack || e) }));
`;

export const INDEX = (script: string) => `<!doctype html><html><body><script type="module" src="${script}"></script></body></html>`;

export type Result = {
  error?: string; plainRuntime: string; kernel: string; threadsError: string; plainLogits: number[]; tfLogits: number[];
  onnxLayers: number; ortWeb: true | string; ortBackends: string[];
};

export function nodeBuiltins(dir: string): string[] {
  const found: string[] = [];
  for (const f of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, f);
    if (!statSync(p).isFile() || !/\.(m?js)$/.test(f)) continue;
    // Imports and requires only: onnxruntime-web's own bundle keeps runtime-guarded Node paths
    // (e.g. \`typeof navigator > "u" ? <its require>("node:os")\`) that never run in a browser.
    const m = readFileSync(p, 'utf8').match(/(\bfrom\s*|\bimport\s*\(?\s*|\brequire\s*\(\s*)["'`]node:[a-z_/]+["'`]/g);
    if (m) found.push(`${f}: ${[...new Set(m)].join(', ')}`);
  }
  return found;
}


/** Opens `url` in headless Chromium and checks what ENTRY computed there. */
export async function checkInChromium(url: string): Promise<void> {
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForFunction(() => 'lenetResult' in window, undefined, { timeout: 60_000 });
    const r = (await page.evaluate(() => (window as unknown as { lenetResult: Promise<unknown> }).lenetResult)) as Result;
    expect(r.error, r.error).toBeUndefined();
    expect(errors).toEqual([]);
    // The inlined kernels, not the JS fallback: the relaxed-SIMD tier, which Chromium >= 114 validates.
    expect(r.kernel).toBe('wasm-relaxed-simd');
    expect(r.plainRuntime).toContain('WebAssembly relaxed-SIMD kernels (f32x4.relaxed_madd), 1 thread');
    // Not cross-origin isolated, on the main thread: one thread per session, and the error says why
    // (the Web Worker pool needs SharedArrayBuffer and a thread that may block; apps/web uses it).
    expect(r.threadsError).toContain('threads > 1 needs SharedArrayBuffer: serve the page cross-origin isolated');
    expect(r.plainLogits).toHaveLength(40);
    expect(r.plainLogits.every(Number.isFinite)).toBe(true);
    expect(r.tfLogits).toHaveLength(40);
    expect(r.tfLogits.every(Number.isFinite)).toBe(true);
    expect(r.onnxLayers).toBe(12);
    expect(r.ortWeb).toBe(true);
    expect(r.ortBackends).toEqual(['ort-web']); // the browser condition leaves ort-node out
  } finally {
    await browser.close();
  }
}

/** Serves `root` on 127.0.0.1 (an ephemeral port). */
export async function serve(root: string): Promise<{ server: Server; base: string }> {
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer((req, res) => {
    const p = join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!p.startsWith(root) || !existsSync(p) || !statSync(p).isFile()) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' }).end(readFileSync(p));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}
