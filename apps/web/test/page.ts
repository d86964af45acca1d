// Shared by the Chromium tests: build dist/ when stale, serve it with `vite preview` (the app's
// plugin, COOP/COEP), launch Debian's Chromium through playwright-core, and train the weights
// the pages classify with.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { train } from '@lenet/core';
import { stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { initWeights, type ModelSpec, type Weights } from '@lenet/model';
import { plainBackend } from '@lenet/backend-plain';
import type { LenetWebOptions } from '../server/plugin.js';

export const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ARTIFACTS = join(APP, 'test-artifacts');
export const CHROMIUM = '/usr/bin/chromium';

/** Newest modification time under the app's sources (to rebuild dist/ only when stale). */
function newest(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newest(join(path, f))));
}

export async function ensureBuilt(): Promise<void> {
  const built = join(APP, 'dist', 'index.html');
  // The page's own sources and the built workspace packages it bundles.
  const packages = ['core', 'datasets', 'model', 'backend-plain', 'backend-tfjs', 'backend-onnxruntime', 'backend-jax'].map((p) => join(APP, '..', '..', 'packages', p, 'dist'));
  const sources = Math.max(...['src', 'server', 'index.html', 'cold-start.html', 'vite.config.ts'].map((p) => newest(join(APP, p))), ...packages.filter(existsSync).map(newest));
  if (existsSync(built) && statSync(built).mtimeMs > sources) return;
  const { build } = await import('vite');
  await build({ root: APP, logLevel: 'warn' });
}

export async function startPreview(options: LenetWebOptions = {}): Promise<{ url: string; close(): Promise<void> }> {
  const { preview } = await import('vite');
  const { lenetWeb } = await import('../server/plugin.js');
  const p = await preview({
    root: APP,
    configFile: false,
    logLevel: 'warn',
    plugins: [lenetWeb(options)],
    preview: { host: '127.0.0.1', port: 0, strictPort: false, headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
  });
  const url = p.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return { url, close: () => p.close() };
}

/** A headless Chromium with a fresh profile; close() also removes the profile. webgpu: also --enable-unsafe-webgpu (SwiftShader's fallback adapter). */
export async function launchChromium(options: { webgpu?: boolean } = {}): Promise<{ browser: BrowserContext; close(): Promise<void> }> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: true,
    viewport: { width: 1280, height: 1000 },
    // No --disable-gpu, and SwiftShader allowed: tfjs-webgl runs on software WebGL here.
    args: ['--headless', '--no-sandbox', '--enable-unsafe-swiftshader', ...(options.webgpu ? ['--enable-unsafe-webgpu'] : []), '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  return {
    browser,
    close: async () => {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The page at `url` in a fresh headless Chromium, after window.lenetBench.ready; `errors` collects
 * the page's uncaught errors. close() closes the browser and removes its profile.
 */
export async function openPage(url: string, options: { webgpu?: boolean } = {}): Promise<{ page: Page; errors: string[]; close(): Promise<void> }> {
  const { browser, close } = await launchChromium(options);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(url);
    await page.evaluate(() => window.lenetBench.ready);
    return { page, errors, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Weights that classify (confident predictions, few near-ties): `spec` from the seed-0 init after
 * `steps` SGD steps of plain in Node (1 thread, batch 128, lr 0.1, batch order seed 0) on a
 * stratified subset of steps·128 training images; `test` is evaluated at the end of the epoch.
 */
export async function trainedPlainWeights(spec: ModelSpec, trainSplit: ImageSplit, test: ImageSplit, steps: number): Promise<Weights> {
  const session = await plainBackend.createSession(spec, initWeights(spec, 0), { threads: 1 });
  try {
    await train({ session, spec, train: stratifiedSubset(trainSplit, steps * 128, 0), test, epochs: 1, batchSize: 128, lr: 0.1, seed: 0, maxStepsPerEpoch: steps });
    return await session.getWeights();
  } finally {
    await session.dispose();
  }
}
