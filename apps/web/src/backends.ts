/**
 * The backends the page can run and how each one is reached in a browser:
 * - ort-web (wasm EP) through @lenet/backend-onnxruntime's ortWebBackend; WebGL is not in
 *   onnxruntime-web 1.30's default browser bundle.
 * - TF.js wasm and cpu through @lenet/backend-tfjs; tfjs-layers-wasm, the d2l model as TF.js
 *   users write it (tf.sequential + tf.layers + trainOnBatch) with this project's
 *   Conv2DBackpropFilter registered for wasm.
 * - jax-js on its wasm device through @lenet/backend-jax (jit(valueAndGrad(loss)); a pool of
 *   navigator.hardwareConcurrency workers, the page being cross-origin isolated).
 * - the GPU backends (ort-web-webgpu, tfjs-webgl, tfjs-webgpu, tfjs-layers-webgl, jax-js-webgpu): gpu-backends.ts.
 * - plain (WebAssembly SIMD tier) and plain-js in a dedicated Web Worker.
 */
import type { Backend } from '@lenet/core';
import type { ImageSplit } from '@lenet/datasets';
import type { ModelSpec, Weights } from '@lenet/model';
import { cloneWeights } from '@lenet/model';
import { ortWebBackend } from '@lenet/backend-onnxruntime';
import { createTfjsLayersWasmBackend, createTfjsWasmBackend, tfjsCpuBackend } from '@lenet/backend-tfjs';
import { jaxBackend } from '@lenet/backend-jax';
import { GPU_BACKENDS, type GpuBackendEntry } from './gpu-backends.js';
import { runBackend } from './measure.js';
import type { PlainJob, PlainReply } from './plain.worker.js';
import type { BackendFamily, BrowserResult } from './types.js';

const WASM_DIR = new URL(`${import.meta.env.BASE_URL}lenet-wasm/`, location.href).href;

export interface RunContext {
  spec: ModelSpec;
  weights: Weights;
  split: ImageSplit;
  inferenceSeconds: number;
  agreementImages: number;
  browserVersions: Record<string, string>;
  skipSoftwareGpu: boolean;
}

export interface BrowserBackend {
  id: string;
  family: BackendFamily;
  label: string;
  /** Runs on WebAssembly on the CPU (the set the e2e test compares with Node). */
  wasm: boolean;
  run(ctx: RunContext): Promise<BrowserResult>;
}

/**
 * How each backend of the table trains in the page (train-panel.ts): filled by onMainThread and
 * inWorker, so every entry made with them can train whenever its Backend can (has createTrainingSession).
 */
export type TrainTarget =
  | { where: 'main thread'; family: BackendFamily; package: string; backend: Backend }
  | { where: 'web worker'; family: 'plain'; package: string; tier: PlainJob['tier'] };
export const TRAIN_TARGETS = new Map<string, TrainTarget>();

function onMainThread(id: string, family: BackendFamily, pkg: string, backend: Backend): BrowserBackend['run'] {
  TRAIN_TARGETS.set(id, { where: 'main thread', family, package: pkg, backend });
  return (ctx) =>
    runBackend({ id, family, package: pkg, where: 'main thread', backend, spec: ctx.spec, weights: ctx.weights, split: ctx.split, inferenceSeconds: ctx.inferenceSeconds, agreementImages: ctx.agreementImages, versions: ctx.browserVersions, skipSoftwareGpu: ctx.skipSoftwareGpu });
}

function inWorker(id: string, tier: PlainJob['tier']): BrowserBackend['run'] {
  TRAIN_TARGETS.set(id, { where: 'web worker', family: 'plain', package: '@lenet/backend-plain', tier });
  return (ctx) =>
    new Promise<BrowserResult>((resolve, reject) => {
      const worker = new Worker(new URL('./plain.worker.ts', import.meta.url), { type: 'module', name: `lenet-${id}` });
      const finish = () => worker.terminate();
      worker.onmessage = (e: MessageEvent<PlainReply>) => {
        finish();
        if (e.data.ok) resolve(e.data.result);
        else reject(new Error(`${id} worker: ${e.data.message}`));
      };
      worker.onerror = (e) => {
        finish();
        reject(new Error(`${id} worker failed: ${e.message || 'could not start the worker script'}`));
      };
      const job: PlainJob = { id, tier, spec: ctx.spec, weights: cloneWeights(ctx.weights), split: ctx.split, inferenceSeconds: ctx.inferenceSeconds, agreementImages: ctx.agreementImages, versions: ctx.browserVersions };
      worker.postMessage(job);
    });
}

function hasWebgl2(): boolean {
  try {
    return document.createElement('canvas').getContext('webgl2') !== null;
  } catch {
    return false;
  }
}

const ortWebGl: Backend = {
  name: 'ort-web-webgl',
  description: 'onnxruntime-web, WebGL execution provider',
  async available() {
    return (
      `onnxruntime-web 1.30's browser bundle (ort.bundle.min.mjs, used by @lenet/backend-onnxruntime) has no WebGL EP; ` +
      `it ships only in onnxruntime-web/webgl (deprecated upstream)${hasWebgl2() ? '' : ', and this browser has no WebGL2 context'}`
    );
  },
  async info() {
    return { runtime: 'onnxruntime-web WebGL EP', versions: {} };
  },
  createSession() {
    return Promise.reject(new Error('ort-web-webgl is unavailable'));
  },
};

function gpuRow(g: GpuBackendEntry): BrowserBackend {
  return { id: g.id, family: g.family, label: g.label, wasm: false, run: onMainThread(g.id, g.family, g.package, g.backend) };
}

export const BROWSER_BACKENDS: BrowserBackend[] = [
  { id: 'ort-web-wasm', family: 'ort-web', label: 'ort-web · wasm', wasm: true, run: onMainThread('ort-web-wasm', 'ort-web', '@lenet/backend-onnxruntime', ortWebBackend) },
  ...GPU_BACKENDS.filter((g) => g.family === 'ort-web').map(gpuRow),
  { id: 'ort-web-webgl', family: 'ort-web', label: 'ort-web · webgl', wasm: false, run: onMainThread('ort-web-webgl', 'ort-web', 'onnxruntime-web', ortWebGl) },
  { id: 'tfjs-wasm', family: 'tfjs', label: 'TF.js · wasm', wasm: true, run: onMainThread('tfjs-wasm', 'tfjs', '@lenet/backend-tfjs', createTfjsWasmBackend({ wasmPaths: WASM_DIR })) },
  { id: 'tfjs-cpu', family: 'tfjs', label: 'TF.js · cpu', wasm: false, run: onMainThread('tfjs-cpu', 'tfjs', '@lenet/backend-tfjs', tfjsCpuBackend) },
  ...GPU_BACKENDS.filter((g) => g.family === 'tfjs' && !g.id.startsWith('tfjs-layers-')).map(gpuRow),
  { id: 'tfjs-layers-wasm', family: 'tfjs', label: 'TF.js tf.layers · wasm (+ our Conv2DBackpropFilter)', wasm: true, run: onMainThread('tfjs-layers-wasm', 'tfjs', '@lenet/backend-tfjs', createTfjsLayersWasmBackend({ wasmPaths: WASM_DIR })) },
  ...GPU_BACKENDS.filter((g) => g.id.startsWith('tfjs-layers-')).map(gpuRow),
  { id: 'jax-js-wasm', family: 'jax-js', label: 'jax-js · wasm', wasm: true, run: onMainThread('jax-js-wasm', 'jax-js', '@lenet/backend-jax', jaxBackend) },
  ...GPU_BACKENDS.filter((g) => g.family === 'jax-js').map(gpuRow),
  { id: 'plain-wasm', family: 'plain', label: 'plain · wasm SIMD (worker)', wasm: true, run: inWorker('plain-wasm', 'wasm') },
  { id: 'plain-js', family: 'plain', label: 'plain · js (worker)', wasm: false, run: inWorker('plain-js', 'js') },
];

export const BACKEND_IDS = BROWSER_BACKENDS.map((b) => b.id);
export const WASM_BACKEND_IDS = BROWSER_BACKENDS.filter((b) => b.wasm).map((b) => b.id);
