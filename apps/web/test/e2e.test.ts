/**
 * End to end in Chromium: the built app (vite preview) runs the three WebAssembly backends
 * (ort-web wasm, TF.js wasm, plain wasm tier in a Web Worker) on 1,000 Fashion-MNIST test
 * images and must reach exactly the accuracy the same backend packages reach in Node on the
 * same weights; tfjs-webgl runs on software WebGL (SwiftShader) and its row names the adapter and
 * marks the timings; backends the browser lacks must show as unavailable, not as failures; the
 * grid, activation maps and drawing canvas must work. Screenshot: test-artifacts/web.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '@lenet/core';
import { evaluate } from '@lenet/core';
import { stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset } from '@lenet/model';
import { saveWeightsFile } from '@lenet/model/node';
import { ortWebBackend } from '@lenet/backend-onnxruntime';
import { tfjsWasmBackend } from '@lenet/backend-tfjs';
import { plainBackend } from '@lenet/backend-plain';
import type { BrowserRun } from '../src/types.js';
import { ARTIFACTS, CHROMIUM, ensureBuilt, openPage, startPreview, trainedPlainWeights } from './page.js';

const TEST_IMAGES = 1000;
const WASM: Record<string, Backend> = { 'ort-web-wasm': ortWebBackend, 'tfjs-wasm': tfjsWasmBackend, 'plain-wasm': plainBackend };

describe.skipIf(!existsSync(CHROMIUM))(`the page in Chromium (needs ${CHROMIUM}, Debian package chromium)`, () => {
  let tmp: string;
  let server: { close(): Promise<void>; url: string };
  let test: ImageSplit;
  const node = new Map<string, { accuracy: number; count: number }>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lenet-web-'));
    const built = ensureBuilt();
    const data = await loadDataset('fashion-mnist', { download: false });
    test = stratifiedSubset(data.test, TEST_IMAGES, 0);
    // Weights worth classifying with: lenet5-modern after 60 SGD steps from the seed-0 init,
    // saved as `lenet-bench train` saves them (safetensors, spec in the metadata).
    const spec = getPreset('lenet5-modern');
    const weights = await trainedPlainWeights(spec, data.train, test, 60);
    const weightsFile = join(tmp, 'trained.safetensors');
    await saveWeightsFile(weightsFile, weights, { spec: JSON.stringify(spec), seed: '0' });
    // The Node result for the same weights and images, with the same backend packages.
    for (const [id, backend] of Object.entries(WASM)) {
      const s = await backend.createSession(spec, weights, { threads: 1 });
      try {
        const e = await evaluate(s, test);
        node.set(id, { accuracy: e.accuracy, count: e.count });
      } finally {
        await s.dispose();
      }
    }
    await built;
    server = await startPreview({ weightsFile });
  });

  afterAll(async () => {
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('runs the wasm backends on 1,000 test images with the Node accuracy; shows grid, maps, canvas', async () => {
    for (const [id, r] of node) expect(r.accuracy, `${id} in Node`).toBeGreaterThan(0.3); // trained, not chance
    const { page, errors, close } = await openPage(`${server.url}?limit=${TEST_IMAGES}`);
    try {
      expect(await page.textContent('#model-info')).toContain('lenet5-modern');

      const backends = [...Object.keys(WASM), 'tfjs-webgl', 'ort-web-webgl'];
      const run: BrowserRun = await page.evaluate((b) => window.lenetBench.run({ backends: b, limit: 1000, inferenceSeconds: 0.3 }), backends);
      expect(run.crossOriginIsolated).toBe(true);
      expect(run.testCount).toBe(TEST_IMAGES);
      const byId = new Map(run.results.map((r) => [r.id, r]));
      for (const [id, expected] of node) {
        const r = byId.get(id)!;
        expect(r.status, `${id}: ${r.reason}`).toBe('ok');
        expect(r.evaluation!.count).toBe(TEST_IMAGES);
        expect(r.evaluation!.accuracy, `${id}: browser vs Node accuracy`).toBe(expected.accuracy);
        expect(r.inference!.batch1.samplesCount).toBeGreaterThanOrEqual(10);
        expect(r.inference!.batch256.imagesPerSecond).toBeGreaterThan(0);
      }
      expect(byId.get('plain-wasm')!.where).toBe('web worker');
      // Chromium >= 114 validates relaxed SIMD, so plain runs its FMA tier (and the page says so).
      expect(byId.get('plain-wasm')!.runtime).toContain('WebAssembly relaxed-SIMD kernels');
      // tfjs-webgl through the contract on SwiftShader: it runs, names the adapter, and its row
      // marks the timings as a software fallback. (Its logits are checked in gpu.test.ts.)
      const webgl = byId.get('tfjs-webgl')!;
      expect(webgl.status, `tfjs-webgl: ${webgl.reason}`).toBe('ok');
      expect(webgl.adapter).toMatch(/SwiftShader/);
      expect(webgl.softwareFallback).toBe(true);
      expect(Math.abs(webgl.evaluation!.accuracy - node.get('tfjs-wasm')!.accuracy), 'tfjs-webgl vs tfjs-wasm in Node').toBeLessThanOrEqual(0.002);
      expect(await page.locator('tr[data-backend="tfjs-webgl"] td.runtime .software-fallback').textContent()).toMatch(/SwiftShader.* — software fallback, timings not representative$/);
      expect(await page.locator('#charts .software-fallback-note').textContent()).toContain('tfjs-webgl');
      // A backend the browser lacks is unavailable, not a failure.
      expect(byId.get('ort-web-webgl')!.status).toBe('unavailable');
      expect(await page.locator('#results-table tbody tr').count()).toBe(backends.length);
      expect(await page.locator('#results-table tr.unavailable').count()).toBe(1);
      expect(await page.locator('#charts svg rect').count()).toBe(3 * (Object.keys(WASM).length + 1));

      // Grid: 48 images with predicted/true labels; activation maps of conv1 (6) and conv2 (16).
      expect(await page.locator('#grid figure').count()).toBe(48);
      await page.locator('#grid figure[data-index="5"]').click();
      expect(await page.locator('#grid figure.selected').getAttribute('data-index')).toBe('5');
      expect(await page.locator('#maps .maps-layer').count()).toBe(2);
      expect(await page.locator('#maps .maps-layer').nth(0).locator('canvas').count()).toBe(6);
      expect(await page.locator('#maps .maps-layer').nth(1).locator('canvas').count()).toBe(16);

      // Drawing canvas and noise: probabilities are redrawn and sum to 100 %.
      await page.click('#copy');
      const truth = await page.locator('#grid figure[data-index="5"] .true').textContent();
      const box = (await page.locator('#pad').boundingBox())!;
      await page.mouse.move(box.x + 100, box.y + 60);
      await page.mouse.down();
      await page.mouse.move(box.x + 180, box.y + 220, { steps: 8 });
      await page.mouse.up();
      const probs = async () => page.$$eval('#probs text', (ts) => ts.filter((t) => t.textContent!.endsWith('%')).map((t) => parseFloat(t.textContent!)));
      const drawn = await probs();
      expect(drawn).toHaveLength(10);
      expect(drawn.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 0);
      await page.click('#noise');
      const noisy = await probs();
      expect(noisy).toHaveLength(10);
      expect(noisy).not.toEqual(drawn);
      expect(truth).toBeTruthy();

      expect(errors).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      const shot = join(ARTIFACTS, 'web.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(30_000);

      // skipSoftwareGpu (what `lenet-bench browser` asks for its default set): on SwiftShader the GPU
      // backend is reported unavailable, naming the adapter, without a session or timings.
      const skipped: BrowserRun = await page.evaluate(() => window.lenetBench.run({ backends: ['tfjs-webgl', 'plain-js'], limit: 1000, inferenceSeconds: 0.1, skipSoftwareGpu: true }));
      const [gl, js] = skipped.results;
      expect([gl!.status, gl!.inference, gl!.softwareFallback]).toEqual(['unavailable', null, true]);
      expect(gl!.reason).toMatch(/^software fallback adapter \(.*SwiftShader.*\): skipped, its timings would not be representative/);
      expect(js!.status).toBe('ok');
    } finally {
      await close();
    }
  });
});
