/**
 * The page's field rows in Chromium, through the page itself (window.lenetBench): tf.layers as
 * TF.js users write it (tfjs-layers-wasm with our Conv2DBackpropFilter, tfjs-layers-webgl on stock
 * webgl — SwiftShader here) and jax-js (wasm with its worker pool, WebGPU on SwiftShader's fallback
 * adapter when Chromium offers one). Each row's logits on 64 test images must be within 1e-3 of
 * @lenet/core's float64 reference with the same predictions, and 3 SGD steps in the page's training
 * panel must follow the float64 reference's losses. Then the cold start: fresh documents per
 * backend, every phase present and in order (not their speed). A row this browser cannot run
 * (no WebGPU adapter) skips visibly. Screenshots: test-artifacts/page-rows.png, page-cold-start.png.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { argmax, referenceBackend, referenceForward, train } from '@lenet/core';
import { splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { getPreset, initWeights, type Weights } from '@lenet/model';
import { saveWeightsFile } from '@lenet/model/node';
import type { BrowserResult, BrowserRun, BrowserTraining, TrainRequest } from '../src/types.js';
import { ARTIFACTS, CHROMIUM, ensureBuilt, openPage, startPreview, trainedPlainWeights } from './page.js';

const ROWS = ['tfjs-layers-wasm', 'tfjs-layers-webgl', 'jax-js-wasm', 'jax-js-webgpu'] as const;
const AGREEMENT_IMAGES = 64;
const TEST_IMAGES = 100;
const TRAIN: Omit<TrainRequest, 'backend'> = {
  model: 'lenet5', seed: 0, epochs: 1, batchSize: 32, lr: 0.1, trainLimit: 320, testLimit: TEST_IMAGES,
  maxStepsPerEpoch: 3, evalEverySteps: null, threads: null, trainAccImages: 0,
};
// float32 runtimes against the float64 reference: measured here ~1e-7 (wasm) to ~1e-6 (SwiftShader).
const LOGIT_TOLERANCE = 1e-3;
const LOSS_TOLERANCE = 1e-4;

const predictions = (logits: ArrayLike<number>, n: number) => Array.from({ length: n }, (_, i) => argmax(logits, i * 10, 10));

describe.skipIf(!existsSync(CHROMIUM))(`tf.layers and jax-js rows of the page in Chromium (needs ${CHROMIUM})`, () => {
  let tmp: string;
  let server: { close(): Promise<void>; url: string };
  let opened: Awaited<ReturnType<typeof openPage>>;
  let weights: Weights;
  let agreementX: Float32Array;
  let run: BrowserRun;
  const referenceLosses: number[] = [];
  const spec = getPreset('lenet5-modern');

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'lenet-web-rows-'));
    const built = ensureBuilt();
    const data = await loadDataset('fashion-mnist', { download: false });
    const test: ImageSplit = stratifiedSubset(data.test, TEST_IMAGES, 0);
    weights = await trainedPlainWeights(spec, data.train, test, 40);
    const weightsFile = join(tmp, 'trained.safetensors');
    await saveWeightsFile(weightsFile, weights, { spec: JSON.stringify(spec), seed: '0' });
    // The page takes its agreement images from the test subset it evaluates (?limit), as lenet-bench browser does.
    agreementX = splitToFloat(stratifiedSubset(test, AGREEMENT_IMAGES, 0));
    // The float64 reference's losses for the page's training request (same subsets, init, batch order).
    const d2l = getPreset(TRAIN.model);
    const ref = await referenceBackend.createTrainingSession(d2l, initWeights(d2l, TRAIN.seed));
    try {
      await train({
        session: ref, spec: d2l, train: stratifiedSubset(data.train, TRAIN.trainLimit!, 0), test: stratifiedSubset(data.test, TEST_IMAGES, 0),
        epochs: 1, batchSize: TRAIN.batchSize, lr: TRAIN.lr, seed: TRAIN.seed, maxStepsPerEpoch: TRAIN.maxStepsPerEpoch!, onStep: (p) => referenceLosses.push(p.loss),
      });
    } finally {
      await ref.dispose();
    }
    await built;
    server = await startPreview({ weightsFile });
    opened = await openPage(`${server.url}?limit=${TEST_IMAGES}`, { webgpu: true });
    run = await opened.page.evaluate((ids) => window.lenetBench.run({ backends: ids, limit: 100, inferenceSeconds: 0.05, agreementImages: 64 }), [...ROWS]);
    mkdirSync(ARTIFACTS, { recursive: true });
    await opened.page.screenshot({ path: join(ARTIFACTS, 'page-rows.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1400 } });
  }, 300_000);

  afterAll(async () => {
    await opened?.close();
    await server?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const row = (id: string): BrowserResult => run.results.find((r) => r.id === id)!;
  /** A WebGPU row without an adapter is unavailable, not failed: that test skips visibly. */
  const skipUnlessRan = (id: string, ctx: { skip(note?: string): void }) => {
    const r = row(id);
    if (r.status === 'unavailable' && id.endsWith('-webgpu')) ctx.skip(`${id}: ${r.reason}`);
    expect(r.status, `${id}: ${r.reason}`).toBe('ok');
  };

  it.for(ROWS)('%s predicts 64 test images within 1e-3 of the float64 reference, same predictions', (id, ctx) => {
    skipUnlessRan(id, ctx);
    const r = row(id);
    const ref = referenceForward(spec, weights, agreementX, AGREEMENT_IMAGES);
    expect(r.agreementLogits).toHaveLength(ref.length);
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(r.agreementLogits![i]! - ref[i]!));
    expect(diff, `${id} max |logit - float64 reference|`).toBeLessThan(LOGIT_TOLERANCE);
    expect(predictions(r.agreementLogits!, AGREEMENT_IMAGES)).toEqual(predictions(ref, AGREEMENT_IMAGES));
    expect(r.evaluation!.count).toBe(TEST_IMAGES);
    // GPU rows name their adapter; without a GPU it is SwiftShader, flagged as a software fallback.
    if (id.endsWith('-webgl') || id.endsWith('-webgpu')) {
      expect(r.adapter, `${id} adapter`).toBeTruthy();
      if (/swiftshader/i.test(r.adapter!)) expect(r.softwareFallback).toBe(true);
    }
    console.log(`${id}: ${r.runtime}${r.adapter ? `; ${r.adapter}` : ''}; max |Δlogit| vs float64 ${diff.toExponential(2)}; accuracy ${(r.evaluation!.accuracy * 100).toFixed(1)} % on ${TEST_IMAGES}`);
  });

  it.for(ROWS)('%s trains in the page: 3 SGD steps follow the float64 reference loss within 1e-4', async (id, ctx) => {
    skipUnlessRan(id, ctx);
    expect(await opened.page.evaluate(() => window.lenetBench.trainableIds)).toContain(id);
    const t: BrowserTraining = await opened.page.evaluate((req) => window.lenetBench.train(req), { ...TRAIN, backend: id });
    expect(t.status, `${id}: ${t.reason}`).toBe('ok');
    expect(t.stepLosses).toHaveLength(referenceLosses.length);
    for (let i = 0; i < referenceLosses.length; i++) {
      expect(Math.abs(t.stepLosses[i]! - referenceLosses[i]!), `step ${i}: ${id} ${t.stepLosses[i]} vs reference ${referenceLosses[i]}`).toBeLessThan(LOSS_TOLERANCE);
    }
    console.log(`${id} losses ${t.stepLosses.map((l) => l.toFixed(6)).join(', ')} vs float64 ${referenceLosses.map((l) => l.toFixed(6)).join(', ')} (${t.threads} thread(s))`);
  });

  it('times the cold start in fresh documents: every phase present and in order, shown in the page', async () => {
    const ids = ['tfjs-layers-wasm', 'jax-js-wasm', 'plain-wasm'];
    const cold: BrowserRun = await opened.page.evaluate((b) => window.lenetBench.run({ backends: b, limit: 100, inferenceSeconds: 0.05, coldStarts: 2 }), ids);
    for (const r of cold.results) {
      expect(r.status, `${r.id}: ${r.reason}`).toBe('ok');
      expect(r.coldStartError ?? null, r.id).toBeNull();
      expect(r.coldStartSamples, r.id).toHaveLength(2);
      for (const s of r.coldStartSamples!) {
        for (const v of [s.importMs, s.sessionMs, s.firstPredictMs, s.firstStepMs]) {
          expect(v, `${r.id} phase`).not.toBeNull();
          expect(Number.isFinite(v) && v! > 0, `${r.id} phase ${v}`).toBe(true);
        }
        // Ends in order: import < session < first predict < first step, each the sum of the phases before.
        const e = s.endsMs;
        expect(e.import).toBeLessThan(e.session);
        expect(e.session).toBeLessThan(e.firstPredict);
        expect(e.firstPredict).toBeLessThan(e.firstStep!);
        expect(e.firstStep!).toBeCloseTo(s.importMs + s.sessionMs + s.firstPredictMs + s.firstStepMs!, 6);
      }
    }
    // The page's cold-start table: one row per backend, and no sample frame left behind.
    const shown = await opened.page.$$eval('#cold-start-table tbody tr', (trs) => trs.map((tr) => (tr as HTMLElement).dataset.backend));
    expect(shown).toEqual(ids);
    expect(await opened.page.$$('iframe.cold-start-frame')).toHaveLength(0);
    await opened.page.locator('#results').screenshot({ path: join(ARTIFACTS, 'page-cold-start.png') });
    expect(opened.errors).toEqual([]);
  }, 240_000);
});
