// The library packages in a browser, the way an app would ship them: a small entry imports the
// packages' browser entries (their "browser" export conditions), esbuild, Vite and webpack bundle
// it with no flags beyond their defaults for a browser app (no externals, no polyfills, no
// asset rules), no bundle imports a Node built-in, and headless Chromium runs each bundle: plain
// must predict with its inlined WebAssembly kernels, tfjs-cpu must predict, ONNX export/import
// and ort-web's loading must work.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, ENTRY, INDEX, checkInChromium, nodeBuiltins, serve } from './browser-app.js';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');

const work = join(APP, '.tmp');
mkdirSync(work, { recursive: true });
const src = mkdtempSync(join(work, 'bundles-'));
const out = mkdtempSync(join(tmpdir(), 'lenet-bundles-'));
afterAll(() => {
  rmSync(src, { recursive: true, force: true });
  rmSync(out, { recursive: true, force: true });
});

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
    ({ server, base } = await serve(out));
  });
  afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  it.each(Object.keys(bundlers))('%s bundles the browser entries with no Node built-in, and the bundle runs in Chromium', async (name) => {
    const { dir, warnings } = await bundlers[name]!();
    expect(nodeBuiltins(dir), 'node: imports in the bundle').toEqual([]);
    expect(warnings.filter((w) => /node:|worker_threads|kernels\.wasm|Critical dependency/.test(w)), 'warnings').toEqual([]);
    await checkInChromium(`${base}/${name}/index.html`);
  }, 300_000);
});
