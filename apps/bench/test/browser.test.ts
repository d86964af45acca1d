// `lenet-bench browser`: browser rows merged into a real run's report.json stay valid against the
// schema (merge unit, always), and the whole path — static server, Chromium through
// playwright-core, the page's backends, merge, re-render — end to end when Chromium and the
// built page (apps/web/dist, `pnpm --filter @lenet/web build`) are present.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';
import { mergeBrowserRun, agreementReference } from '../src/browser/merge.js';
import { checkBrowserRun, type BrowserInfo, type BrowserResult, type BrowserRun, type BrowserTraining } from '../src/browser/types.js';
import { chromiumArgs } from '../src/browser/gpu.js';
import { CHROMIUM_ARGS } from '../src/browser/driver.js';
import { mergeTrainingRows, pageRequest, presetOf, skippedSoftwareGpu, type TrainingPlan } from '../src/browser/training.js';
import { getPreset } from '@lenet/model';
import { validateReport } from '../src/report/schema.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { Report } from '../src/run/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const webDist = join(here, '..', '..', 'web', 'dist', 'index.html');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Async: a long spawnSync starves vitest's worker RPC (see cli-process.ts).
const cliRun = (args: string[]) => runCli(args, tmp);
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;

describe('lenet-bench browser', () => {
  const dir = join(tmp, 'run');
  let report: Report;

  beforeAll(async () => {
    const r = await cliRun(['run', '--backends', 'plain', '--limit', '300', '--train-steps', '2', '--inference-seconds', '0.2', '--agreement-images', '20', '--no-torch', '--out', 'run']);
    expect(r.code, r.stderr).toBe(0);
    report = readReport(dir);
  });

  it('starts Chromium with software WebGL/WebGPU flags only when a GPU backend is asked for', () => {
    expect(chromiumArgs(CHROMIUM_ARGS, ['plain-wasm', 'ort-web-wasm'])).toEqual(CHROMIUM_ARGS);
    for (const backends of [null, ['plain-wasm', 'tfjs-webgl'], ['ort-web-webgpu']]) {
      const args = chromiumArgs(CHROMIUM_ARGS, backends);
      expect(args).not.toContain('--disable-gpu');
      expect(args).toEqual(expect.arrayContaining(['--enable-unsafe-swiftshader', '--enable-unsafe-webgpu', '--headless', '--no-sandbox']));
    }
  });

  it('in-page training leaves out the GPU backends the default inference run skipped on a software adapter', () => {
    const row = (id: string, status: BrowserResult['status'], softwareFallback: boolean | null, reason: string | null) => ({ id, status, softwareFallback, reason }) as BrowserResult;
    const run = { results: [row('tfjs-webgl', 'unavailable', true, 'software fallback adapter (SwiftShader): skipped'), row('tfjs-webgpu', 'ok', true, null), row('ort-web-webgl', 'unavailable', null, 'no WebGL EP'), row('plain-wasm', 'ok', null, null)] } as BrowserRun;
    expect([...skippedSoftwareGpu(run)]).toEqual([['tfjs-webgl', 'software fallback adapter (SwiftShader): skipped']]);
  });

  it('usage: needs weights when the report has none to offer', async () => {
    const r = await cliRun(['browser']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--weights <file.safetensors\|.onnx> is required/);
  });

  it('merges page results as schema-valid rows tagged with the browser; unavailable ones become notes', () => {
    const latency = (batchSize: number, ms: number) => ({ batchSize, p50Ms: ms, p99Ms: ms * 2, meanMs: ms, minMs: ms / 2, maxMs: ms * 3, madMs: ms / 10, samplesCount: 10, imagesPerSecond: batchSize / (ms / 1000), samplesMs: [ms / 2, ms, ms * 3] });
    const ref = agreementReference(JSON.parse(readFileSync(join(dir, 'agreement', 'reference.json'), 'utf8')), 10);
    const base = { family: 'plain', package: '@lenet/backend-plain', where: 'web worker', description: 'd', versions: { browser: 'Chromium 1.2.3.4', x: '1' }, threads: 1, startedAt: new Date().toISOString(), wallSeconds: 1 } as const;
    const results: BrowserResult[] = [
      {
        ...base, id: 'plain-wasm', backend: 'plain', status: 'ok', reason: null, phase: null, runtime: 'plain 0.1.0', evaluation: { ...report.results[0]!.evaluation! }, inference: { tool: 't', batch1: latency(1, 0.1), batch256: latency(256, 20) }, agreementLogits: Array.from(ref.logits),
        // --cold-starts 3: three fresh documents' phases (RunOptions.coldStarts).
        coldStartSamples: [10, 12, 30].map((t) => ({ importMs: t, sessionMs: 2, firstPredictMs: 1, firstStepMs: 5, endsMs: { import: t, session: t + 2, firstPredict: t + 3, firstStep: t + 8 } })),
        coldStartError: null,
      },
      { ...base, id: 'tfjs-webgpu', backend: 'tfjs-webgpu', status: 'unavailable', reason: 'no adapter', phase: null, runtime: null, evaluation: null, inference: null, agreementLogits: null },
      { ...base, id: 'plain-js', backend: 'plain-js', status: 'error', reason: 'boom', phase: 'session', runtime: null, evaluation: null, inference: null, agreementLogits: null },
      { ...base, family: 'tfjs', package: '@lenet/backend-tfjs/gpu', where: 'main thread', id: 'tfjs-webgl', backend: 'tfjs-webgl', status: 'ok', reason: null, phase: null, runtime: 'tfjs 4.22.0 webgl (WebGL2, float32 render targets)', adapter: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))', softwareFallback: true, evaluation: { ...report.results[0]!.evaluation! }, inference: { tool: 't', batch1: latency(1, 2), batch256: latency(256, 800) }, agreementLogits: Array.from(ref.logits) },
    ];
    const run: BrowserRun = { browser: 'Chromium 1.2.3.4', userAgent: 'HeadlessChrome/1.0.0.0', crossOriginIsolated: true, hardwareConcurrency: 2, weights: { source: '/lenet-weights/default', model: 'lenet5', params: 61706, format: 'safetensors' }, dataset: 'fashion-mnist', limit: 300, testCount: 300, inferenceSeconds: 0.2, startedAt: base.startedAt, finishedAt: base.startedAt, results };
    const browser: BrowserInfo = { name: 'Chromium', version: '1.2.3.4', executable: '/usr/bin/chromium', headless: true, args: ['--headless'] };
    const merged = mergeBrowserRun(report, run, browser, 'agreement/weights.safetensors', ref);
    validateReport(merged, 'merged');
    const rows = merged.results.filter((r) => r.backend.endsWith('@ Chromium 1.2.3.4'));
    expect(rows.map((r) => [r.backend, r.status])).toEqual([['plain-wasm @ Chromium 1.2.3.4', 'ok'], ['plain-js @ Chromium 1.2.3.4', 'error'], ['tfjs-webgl @ Chromium 1.2.3.4', 'ok']]);
    // GPU rows carry the adapter and the software-fallback flag; the others have neither.
    expect(rows[2]).toMatchObject({ adapter: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))', softwareFallback: true });
    expect(rows[0]).not.toHaveProperty('adapter');
    expect(rows[0]!.versions).toEqual({ x: '1', chromium: '1.2.3.4' });
    expect(rows[0]!.agreement).toMatchObject({ images: 20, maxAbsLogitDiff: 0, identicalCount: 20 });
    // The page's cold-start samples become the row's coldStart, with the Node cells' statistics.
    expect(rows[0]!.coldStart).toMatchObject({ processes: 3, importMs: { estimate: 12 }, sessionMs: { estimate: 2 }, firstStepMs: { estimate: 5 }, toFirstPredictionMs: { estimate: 15 } });
    expect(rows[2]).not.toHaveProperty('coldStart');
    expect(merged.errors).toContainEqual({ backend: 'plain-js @ Chromium 1.2.3.4', phase: 'session', message: 'boom' });
    expect(merged.notes.some((n) => n.includes('tfjs-webgpu unavailable: no adapter'))).toBe(true);
    expect(merged.results.length).toBe(report.results.length + 3);
    // Merging the same browser version again replaces its rows and notes instead of adding more.
    const twice = mergeBrowserRun(merged, run, browser, 'agreement/weights.safetensors', ref);
    expect(twice.results.length).toBe(merged.results.length);
    expect(twice.notes.length).toBe(merged.notes.length);
    const md = renderMarkdown(merged);
    expect(md).toContain('| plain-wasm @ Chromium 1.2.3.4 |');
    expect(md).toMatch(/Cold start[\s\S]*fresh page document[\s\S]*\| plain-wasm @ Chromium 1\.2\.3\.4 \| 12 \|/);
    // The fallback row's timings are marked, and the mark explained; the adapter is listed.
    expect(md).toContain('| tfjs-webgl @ Chromium 1.2.3.4 ‡ |');
    expect(md).toContain('‡ software fallback adapter (the GPU emulated on the CPU, e.g. SwiftShader): timings shown but not representative');
    expect(md).toContain('GPU adapters: tfjs-webgl @ Chromium 1.2.3.4: ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero))) (software fallback');
    // A wrong-typed adapter from the page is rejected before merging.
    expect(() => checkBrowserRun({ ...run, results: [{ ...results[3]!, softwareFallback: 'yes' }] })).toThrow(/tfjs-webgl: softwareFallback must be a boolean/);
  });

  it('training rows: schema-valid, named "<id> training @ <browser>", kept by inference merges, replaced by training merges', () => {
    const browser: BrowserInfo = { name: 'Chromium', version: '1.2.3.4', executable: '/usr/bin/chromium', headless: true, args: ['--headless'] };
    const plan: TrainingPlan = { steps: 3, model: 'lenet5', seed: 0, batchSize: 128, lr: 0.1, recipeEpochs: 10, trainLimit: 300, testLimit: 300, threads: null };
    const epoch = { epoch: 1, steps: 3, images: 300, trainLoss: 2.4, valLoss: 2.3, valAccuracy: 0.1, seconds: 0.3, evalSeconds: 0.1, imagesPerSecond: 1000, elapsedSeconds: 0.3, partial: false };
    const ok: BrowserTraining = {
      id: 'plain-wasm', family: 'plain', backend: 'plain', package: '@lenet/backend-plain', where: 'web worker', status: 'ok', reason: null, phase: null, description: 'd', runtime: 'plain 0.1.0: 2 threads',
      versions: { browser: 'Chromium 1.2.3.4', '@lenet/backend-plain': '0.1.0' }, threads: 2, startedAt: new Date().toISOString(), wallSeconds: 1, request: pageRequest('plain-wasm', plan),
      dataset: 'fashion-mnist', trainCount: 300, testCount: 300, stepLosses: [2.5, 2.4, 2.3], epochs: [epoch], curve: [], totalSteps: 3, trainSeconds: 0.3, imagesPerSecond: 1000, stoppedBy: null,
      finalEvaluation: { count: 300, accuracy: 0.1, loss: 2.3, confusion: report.results[0]!.evaluation!.confusion }, batchesPerEpoch: 3,
    };
    const failed: BrowserTraining = { ...ok, id: 'tfjs-cpu', status: 'error', reason: 'boom', phase: 'session', stepLosses: [], epochs: [], finalEvaluation: null };
    const none: BrowserTraining = { ...failed, id: 'tfjs-webgl', status: 'unavailable', reason: 'not installed', phase: null };
    const merged = mergeTrainingRows(report, [ok, failed, none], plan, browser, true);
    validateReport(merged, 'merged');
    const rows = merged.results.filter((r) => r.backend.includes(' training @ '));
    expect(rows.map((r) => [r.backend, r.status, r.threads])).toEqual([['plain-wasm training @ Chromium 1.2.3.4', 'ok', 2], ['tfjs-cpu training @ Chromium 1.2.3.4', 'error', 2]]);
    expect(rows[0]!.training).toMatchObject({ totalSteps: 3, imagesPerSecond: 1000, epochSeconds: 0.3, recipeSeconds: 3, projected: true, lossTrace: [{ images: 128, loss: 2.5, epoch: 1 }, { images: 256, loss: 2.4, epoch: 1 }, { images: 300, loss: 2.3, epoch: 1 }] });
    expect(rows[0]!.evaluation).toMatchObject({ count: 300, accuracy: 0.1, loss: 2.3 });
    expect(merged.errors).toContainEqual({ backend: 'tfjs-cpu training @ Chromium 1.2.3.4', phase: 'session', message: 'boom' });
    expect(merged.notes.some((n) => n.includes('tfjs-webgl cannot train here: not installed'))).toBe(true);
    expect(renderMarkdown(merged)).toContain('| plain-wasm training @ Chromium 1.2.3.4 |');
    // An inference-only merge of the same browser keeps them; a training merge replaces them.
    const run: BrowserRun = { browser: 'Chromium 1.2.3.4', userAgent: 'HeadlessChrome/1.0.0.0', crossOriginIsolated: true, hardwareConcurrency: 2, weights: { source: 'w', model: 'lenet5', params: 61706, format: 'safetensors' }, dataset: 'fashion-mnist', limit: 300, testCount: 300, inferenceSeconds: 0.2, startedAt: ok.startedAt, finishedAt: ok.startedAt, results: [] };
    expect(mergeBrowserRun(merged, run, browser, 'w').results.filter((r) => r.backend.includes(' training @ '))).toHaveLength(2);
    expect(mergeTrainingRows(merged, [ok], plan, browser, true).results.filter((r) => r.backend.includes(' training @ '))).toHaveLength(1);
    expect(() => presetOf({ ...getPreset('lenet5'), name: 'custom' }, 'w.safetensors')).toThrow(/--train-steps: the page trains only the presets lenet5, lenet5-modern, but w\.safetensors is the custom model "custom"/);
  });

  it('runs the page in Chromium and merges into report.json/md/html', async (ctx) => {
    if (!existsSync('/usr/bin/chromium')) return ctx.skip('/usr/bin/chromium is not installed (Debian package chromium)');
    if (!existsSync(webDist)) return ctx.skip('apps/web/dist is not built (pnpm --filter @lenet/web build)');
    // tfjs-webgl: software WebGL (SwiftShader) here, so Chromium is started with the GPU flags.
    const r = await cliRun(['browser', '--report', 'run', '--backends', 'plain-wasm,ort-web-wasm,tfjs-webgl,ort-web-webgl', '--inference-seconds', '0.2', '--train-steps', '3', '--cold-starts', '1']);
    expect(r.code, r.stderr).toBe(0);
    const merged = readReport(dir);
    const rows = merged.results.filter((x) => / @ Chromium \d+\.\d+\.\d+\.\d+$/.test(x.backend) && !x.training);
    expect(rows.map((x) => x.backend.split(' @ ')[0])).toEqual(['plain-wasm', 'ort-web-wasm', 'tfjs-webgl']);
    const node = merged.results.find((x) => x.backend === 'plain')!;
    const gpu = rows.pop()!;
    expect(gpu.status, gpu.error?.message).toBe('ok');
    expect(gpu.adapter).toMatch(/SwiftShader/);
    expect(gpu.softwareFallback).toBe(true);
    expect(gpu.evaluation!.count).toBe(node.evaluation!.count);
    // float32 shaders vs the float64 reference on the run's shared weights.
    expect(gpu.agreement!.maxAbsLogitDiff).toBeLessThan(1e-3);
    expect(r.stdout).toMatch(/tfjs-webgl ran on ANGLE .*SwiftShader.* — software fallback: timings shown but not representative/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/\| tfjs-webgl @ Chromium [\d.]+ ‡ \|/);
    expect(merged.notes.some((n) => n.includes('--enable-unsafe-swiftshader') && !n.includes('--disable-gpu'))).toBe(true);
    for (const row of rows) {
      expect(row.status).toBe('ok');
      // Same shared weights, same 300 test images: the same accuracy as plain in Node.
      expect(row.evaluation!.count).toBe(node.evaluation!.count);
      expect(row.evaluation!.accuracy).toBe(node.evaluation!.accuracy);
      expect(row.agreement!.identicalPredictions).toBe(1);
    }
    expect(merged.notes.some((n) => /ort-web-webgl unavailable/.test(n))).toBe(true);
    // --cold-starts 1: each row that ran got one fresh-document sample, shown in the terminal too.
    for (const row of [...rows, gpu]) expect(row.coldStart, row.backend).toMatchObject({ processes: 1 });
    expect(r.stdout).toMatch(/cold start in fresh page documents \(1 per backend\)/);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('plain-wasm @ Chromium');
    expect(statSync(join(dir, 'browser.png')).size).toBeGreaterThan(30_000);
    expect(r.stdout).toMatch(/merged into .*report\.json/);
    // --train-steps 3: plain-wasm, ort-web-wasm and tfjs-webgl (SwiftShader) trained in the page
    // (300 train images, lenet5, seed 0, batch 128: 3 steps), with the threads they ran.
    const trained = merged.results.filter((x) => / training @ Chromium /.test(x.backend));
    expect(trained.map((x) => [x.backend.split(' training @ ')[0], x.status])).toEqual([['plain-wasm', 'ok'], ['ort-web-wasm', 'ok'], ['tfjs-webgl', 'ok']]);
    for (const row of trained) {
      expect(row.training!.totalSteps).toBe(3);
      expect(row.training!.imagesPerSecond).toBeGreaterThan(0);
      // CPU threads for the wasm backends; none for WebGL (the work runs in shaders).
      if (row.backend.startsWith('tfjs-webgl')) expect(row.threads).toBeNull();
      else expect(row.threads).toBeGreaterThanOrEqual(1);
      expect(row.evaluation!.count).toBe(node.evaluation!.count);
      // Node's plain cell (run --train-steps 2) began with the same 2 batches from the same
      // weights: the first two losses agree (the page then trains a third batch, 44 images).
      for (const k of [0, 1]) {
        expect(row.training!.lossTrace[k]!.images).toBe(node.training!.lossTrace[k]!.images);
        // float32 everywhere; WebGL shaders round differently from wasm/CPU kernels (~1e-6 seen).
        expect(Math.abs(row.training!.lossTrace[k]!.loss - node.training!.lossTrace[k]!.loss)).toBeLessThan(row.backend.startsWith('tfjs-webgl') ? 1e-4 : 1e-5);
      }
    }
    expect(merged.notes.some((n) => /browser training .*ort-web-webgl cannot train here/.test(n))).toBe(true);
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('ort-web-wasm training @ Chromium');
    expect(r.stdout).toMatch(/in-page training, lenet5, at most 3 steps/);
  });
});
