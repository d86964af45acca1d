// The library packages in a browser, the way an app would ship them: a small entry imports the
// packages' browser entries (their "browser" export conditions), esbuild, Vite and webpack bundle
// it with no flags beyond their defaults for a browser app (no externals, no polyfills, no
// asset rules), no bundle imports a Node built-in, and headless Chromium runs each bundle: plain must predict with its inlined
// WebAssembly kernels, tfjs-cpu must predict, ONNX export/import and ort-web's loading must work.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = '/usr/bin/chromium';

// Lives inside apps/bench so that '@lenet/*' resolve as they would in a user's project.
const ENTRY = `
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

const INDEX = (script: string) => `<!doctype html><html><body><script type="module" src="${script}"></script></body></html>`;

type Result = {
  error?: string; plainRuntime: string; kernel: string; threadsError: string; plainLogits: number[]; tfLogits: number[];
  onnxLayers: number; ortWeb: true | string; ortBackends: string[];
};

const work = join(APP, '.tmp');
mkdirSync(work, { recursive: true });
const src = mkdtempSync(join(work, 'bundles-'));
const out = mkdtempSync(join(tmpdir(), 'lenet-bundles-'));
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

function nodeBuiltins(dir: string): string[] {
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

const bundlers: Record<string, () => Promise<{ dir: string; warnings: string[] }>> = {
  async esbuild() {
    const esbuild = await import('esbuild');
    const dir = join(out, 'esbuild');
    const r = await esbuild.build({ entryPoints: [join(src, 'entry.js')], bundle: true, format: 'esm', outdir: dir, logLevel: 'silent' });
    writeFileSync(join(dir, 'index.html'), INDEX('./entry.js'));
    return { dir, warnings: r.warnings.map((w) => w.text) };
  },
  async vite() {
    const { build } = await import('vite');
    const dir = join(out, 'vite');
    const warnings: string[] = [];
    await build({
      root: src, configFile: false, logLevel: 'silent', base: './',
      build: { outDir: dir, emptyOutDir: true, chunkSizeWarningLimit: 1e9, minify: false }, // minifying onnxruntime-web only costs test time
      customLogger: { info() {}, warn: (m: string) => warnings.push(m), warnOnce: (m: string) => warnings.push(m), error: (m: string) => warnings.push(m), clearScreen() {}, hasErrorLogged: () => false, hasWarned: false },
    });
    return { dir, warnings };
  },
  async webpack() {
    const { default: webpack } = await import('webpack');
    const dir = join(out, 'webpack');
    const stats = await new Promise<import('webpack').Stats>((resolve, reject) =>
      webpack({ mode: 'production', context: src, entry: './entry.js', output: { path: dir, filename: 'main.js' }, performance: { hints: false }, optimization: { minimize: false } }, (err, s) => (err || !s ? reject(err) : resolve(s))),
    );
    const info = stats.toJson({ all: false, errors: true, warnings: true });
    if (stats.hasErrors()) throw new Error(info.errors!.map((e) => e.message).join('\n'));
    writeFileSync(join(dir, 'index.html'), INDEX('./main.js'));
    return { dir, warnings: info.warnings!.map((w) => w.message) };
  },
};

describe.skipIf(!existsSync(CHROMIUM))(`browser bundles of the packages (Chromium: ${CHROMIUM})`, () => {
  let server: Server;
  let base = '';
  beforeAll(async () => {
    writeFileSync(join(src, 'entry.js'), ENTRY);
    writeFileSync(join(src, 'index.html'), INDEX('./entry.js'));
    const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
    server = createServer((req, res) => {
      const p = join(out, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
      if (!p.startsWith(out) || !existsSync(p) || !statSync(p).isFile()) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': types[extname(p)] ?? 'application/octet-stream' }).end(readFileSync(p));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it.each(Object.keys(bundlers))('%s bundles the browser entries with no Node built-in, and the bundle runs in Chromium', async (name) => {
    const { dir, warnings } = await bundlers[name]!();
    expect(nodeBuiltins(dir), 'node: imports in the bundle').toEqual([]);
    expect(warnings.filter((w) => /node:|worker_threads|kernels\.wasm|Critical dependency/.test(w)), 'warnings').toEqual([]);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${base}/${name}/index.html`);
      await page.waitForFunction(() => 'lenetResult' in window, undefined, { timeout: 60_000 });
      const r = (await page.evaluate(() => (window as unknown as { lenetResult: Promise<unknown> }).lenetResult)) as Result;
      expect(r.error, r.error).toBeUndefined();
      expect(errors).toEqual([]);
      expect(r.kernel).toBe('wasm-simd'); // the inlined kernels, not the JS fallback
      expect(r.plainRuntime).toContain('WebAssembly SIMD kernels, 1 thread');
      expect(r.threadsError).toContain('threads > 1 needs Node.js worker_threads');
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
  }, 300_000);
});
