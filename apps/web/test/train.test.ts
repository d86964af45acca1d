/**
 * In-page training in Chromium against Node, on real Fashion-MNIST: plain (wasm kernels, a pool
 * of 2 Web Workers) and ort-web (wasm) train lenet5 for 20 steps from the seed-0 weights in the
 * seed-0 batch order on a 2,560-image train subset, and every step's loss must match @lenet/core's
 * `train` in Node with the same backend packages (the loop `lenet-bench train` runs). The
 * downloaded weights file must evaluate with `lenet-bench eval` to the accuracy the page showed;
 * the stop button must stop a run mid-epoch and keep its weights downloadable.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingBackend } from '@lenet/core';
import { train } from '@lenet/core';
import { stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { flattenWeights, getPreset, initWeights } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { ortWebBackend } from '@lenet/backend-onnxruntime';
import { plainBackend } from '@lenet/backend-plain';
import type { BrowserTraining, TrainRequest } from '../src/types.js';
import { APP, ARTIFACTS, CHROMIUM, ensureBuilt, openPage, startPreview } from './page.js';

const CLI = join(APP, '..', 'bench', 'dist', 'cli.js');
const STEPS = 20;
const TRAIN_IMAGES = 2560;
const TEST_IMAGES = 500;
const REQUEST: Omit<TrainRequest, 'backend'> = {
  model: 'lenet5', seed: 0, epochs: 1, batchSize: 128, lr: 0.1, trainLimit: TRAIN_IMAGES, testLimit: TEST_IMAGES,
  maxStepsPerEpoch: STEPS, evalEverySteps: 5, threads: 2, trainAccImages: 500,
};
// Float32 training on different thread counts / runtimes: per-step losses agree to ~1e-7 here;
// 1e-5 leaves room without letting a different batch or init through (those change the loss
// by > 1e-2 from the first step).
const LOSS_TOLERANCE = 1e-5;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, CI: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(!existsSync(CHROMIUM))(`training in the page in Chromium (needs ${CHROMIUM}, Debian package chromium)`, () => {
  let tmp: string;
  let server: { close(): Promise<void>; url: string };
  const node = new Map<string, { losses: number[]; weights: Float32Array }>();

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lenet-web-train-'));
    const built = ensureBuilt();
    const data = await loadDataset('fashion-mnist', { download: false });
    const trainSplit = stratifiedSubset(data.train, TRAIN_IMAGES, 0);
    const test = stratifiedSubset(data.test, TEST_IMAGES, 0);
    const spec = getPreset('lenet5');
    const nodeBackends: [string, TrainingBackend][] = [['plain-wasm', plainBackend], ['ort-web-wasm', ortWebBackend]];
    for (const [id, backend] of nodeBackends) {
      const session = await backend.createTrainingSession(spec, initWeights(spec, 0), { threads: 1, maxBatchSize: 1000 });
      try {
        const losses: number[] = [];
        await train({ session, spec, train: trainSplit, test, epochs: 1, batchSize: 128, lr: 0.1, seed: 0, maxStepsPerEpoch: STEPS, onStep: (p) => losses.push(p.loss) });
        node.set(id, { losses, weights: flattenWeights(spec, await session.getWeights()) });
      } finally {
        await session.dispose();
      }
    }
    await built;
    server = await startPreview();
  });

  afterAll(async () => {
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('plain (2 worker threads) and ort-web give the Node losses step by step; the download evaluates identically with lenet-bench eval', async () => {
    expect(existsSync(CLI), `${CLI} (pnpm --filter @lenet/bench build)`).toBe(true);
    const { page, errors, close } = await openPage(`${server.url}?limit=${TEST_IMAGES}`);
    try {
      expect(await page.evaluate(() => window.lenetBench.trainableIds)).toEqual(expect.arrayContaining(['plain-wasm', 'plain-js', 'ort-web-wasm', 'tfjs-wasm', 'tfjs-cpu']));

      for (const id of ['ort-web-wasm', 'plain-wasm']) {
        const r: BrowserTraining = await page.evaluate((q) => window.lenetBench.train(q), { ...REQUEST, backend: id });
        expect(r.status, `${id}: ${r.reason}`).toBe('ok');
        expect(r.threads, id).toBe(2);
        expect([r.trainCount, r.testCount, r.totalSteps]).toEqual([TRAIN_IMAGES, TEST_IMAGES, STEPS]);
        const ref = node.get(id)!.losses;
        expect(r.stepLosses).toHaveLength(STEPS);
        const diff = Math.max(...r.stepLosses.map((l, i) => Math.abs(l - ref[i]!)));
        expect(diff, `${id}: max |browser - Node| step loss`).toBeLessThan(LOSS_TOLERANCE);
        expect(ref[STEPS - 1]!).toBeLessThan(ref[0]! - 0.05); // it learns: the loss went down
        // d2l's curve: evaluations after steps 5, 10, 15 and at the end, each with train and test accuracy.
        expect(r.curve.map((p) => p.totalSteps)).toEqual([5, 10, 15, 20]);
        for (const p of r.curve) expect(p.trainAccuracy).not.toBeNull();
        expect(await page.locator('#train-plot path.series').count()).toBe(3);
        expect(await page.locator('#train-plot path.testAccuracy').getAttribute('data-points')).toBe('4');
        expect(await page.getAttribute('#train', 'data-state')).toBe('finished');
      }
      const plain = (await page.evaluate(() => window.lenetBench.lastTraining()))!;
      expect(plain.where).toBe('web worker');
      expect(plain.runtime).toContain('WebAssembly relaxed-SIMD kernels (f32x4.relaxed_madd), 2 threads'); // Chromium >= 114

      // Download (the button) and evaluate with the CLI on the same 500 test images.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#train-download')]);
      expect(download.suggestedFilename()).toBe('lenet5-fashion-mnist-plain-wasm-seed0.safetensors');
      const file = join(tmp, download.suggestedFilename());
      await download.saveAs(file);
      const { weights, metadata } = await loadWeightsFile(file);
      expect(metadata).toMatchObject({ backend: 'plain', dataset: 'fashion-mnist', seed: '0', batchSize: '128', lr: '0.1', steps: String(STEPS) });
      // Same micro-chunk reduction for 1 and 2 threads, same kernels: Node's weights, bit for bit.
      expect(flattenWeights(getPreset('lenet5'), weights)).toEqual(node.get('plain-wasm')!.weights);
      for (const backend of ['plain']) {
        const ev = await cli(['eval', '--backend', backend, '--weights', file, '--limit', String(TEST_IMAGES), '--json']);
        expect(ev.code, ev.stderr).toBe(0);
        const line = ev.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; accuracy?: number; count?: number }).find((l) => l.accuracy !== undefined)!;
        expect([line.count, line.accuracy], `lenet-bench eval --backend ${backend}`).toEqual([plain.finalEvaluation!.count, plain.finalEvaluation!.accuracy]);
      }
      expect(errors).toEqual([]);
    } finally {
      await close();
    }
  });

  it('the form trains until Stop, keeps the partial weights downloadable; bad requests name the field', async () => {
    const { page, close } = await openPage(`${server.url}?limit=${TEST_IMAGES}`);
    try {
      await expect(page.evaluate(() => window.lenetBench.train({ backend: 'nope' }))).rejects.toThrow(/backend must be one of .*plain-wasm.*, got "nope"/);
      await expect(page.evaluate(() => window.lenetBench.train({ backend: 'plain-wasm', batchSize: 0 }))).rejects.toThrow(/batchSize must be a positive integer, got 0/);

      // plain-js (TypeScript kernels) on the whole d2l budget: slow enough to stop mid-epoch.
      await page.selectOption('#train-backend', 'plain-js');
      await page.fill('#train-limit', String(TRAIN_IMAGES));
      await page.fill('#train-test-limit', String(TEST_IMAGES));
      await page.click('#train-start');
      await page.waitForFunction(() => Number(document.getElementById('train')!.dataset.steps ?? 0) >= 3);
      expect(await page.isDisabled('#train-stop')).toBe(false);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('#train').screenshot({ path: join(ARTIFACTS, 'train-running.png') });
      await page.click('#train-stop');
      await page.waitForFunction(() => document.getElementById('train')!.dataset.state === 'stopped');
      const r = (await page.evaluate(() => window.lenetBench.lastTraining()))!;
      expect(r.stoppedBy).toBe('signal');
      expect(r.totalSteps).toBeGreaterThanOrEqual(3);
      expect(r.totalSteps).toBeLessThan(10 * 20);
      expect(r.finalEvaluation!.count).toBe(TEST_IMAGES);
      expect(await page.isDisabled('#train-download')).toBe(false);
      expect(await page.textContent('#train-progress-text')).toMatch(/^stopped: \d+ steps on plain-js/);
      await page.locator('#train').screenshot({ path: join(ARTIFACTS, 'train-stopped.png') });
      expect(statSync(join(ARTIFACTS, 'train-stopped.png')).size).toBeGreaterThan(10_000);
    } finally {
      await close();
    }
  });
});
