/**
 * The backends the page can run and how each one is reached in a browser:
 * - ort-web (wasm EP) through @lenet/backend-onnxruntime's ortWebBackend; ort-web WebGPU
 *   through an inference-only session created here on the same onnxruntime-web instance
 *   (the package's ortWebBackend always asks for the wasm EP); WebGL is not in
 *   onnxruntime-web 1.30's default browser bundle.
 * - TF.js wasm and cpu through @lenet/backend-tfjs; webgl/webgpu via defineTfjsBackend, which
 *   reports them unavailable because their TF.js packages are not installed in this workspace.
 * - plain (WebAssembly SIMD tier) and plain-js in a dedicated Web Worker.
 */
import * as ort from 'onnxruntime-web';
import type { Backend, BackendSession } from '@lenet/core';
import { checkPredictInput, checkSessionInput } from '@lenet/core';
import type { ImageSplit } from '@lenet/datasets';
import type { ModelSpec, Weights } from '@lenet/model';
import { cloneWeights, inputSize, numClasses } from '@lenet/model';
import { exportOnnx, INPUT_NAME, OUTPUT_NAME, ortWebBackend } from '@lenet/backend-onnxruntime';
import { createTfjsWasmBackend, defineTfjsBackend, tfjsCpuBackend } from '@lenet/backend-tfjs';
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
 * inWorker, so every entry made with them can train whenever its Backend can (canTrain).
 */
export type TrainTarget =
  | { where: 'main thread'; family: BackendFamily; package: string; backend: Backend }
  | { where: 'web worker'; family: 'plain'; package: string; tier: PlainJob['tier'] };
export const TRAIN_TARGETS = new Map<string, TrainTarget>();

function onMainThread(id: string, family: BackendFamily, pkg: string, backend: Backend): BrowserBackend['run'] {
  TRAIN_TARGETS.set(id, { where: 'main thread', family, package: pkg, backend });
  return (ctx) =>
    runBackend({ id, family, package: pkg, where: 'main thread', backend, spec: ctx.spec, weights: ctx.weights, split: ctx.split, inferenceSeconds: ctx.inferenceSeconds, agreementImages: ctx.agreementImages, versions: ctx.browserVersions });
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

/** A predict-only session on an onnxruntime-web execution provider other than wasm. */
class OrtEpSession implements BackendSession {
  private constructor(
    private readonly spec: ModelSpec,
    private readonly weights: Weights,
    private readonly session: ort.InferenceSession,
  ) {}

  static async create(spec: ModelSpec, weights: Weights, ep: 'webgpu'): Promise<OrtEpSession> {
    const valid = checkSessionInput(spec, weights, `ort-web-${ep}`);
    const model = exportOnnx(valid, weights);
    const session = await ort.InferenceSession.create(model, { executionProviders: [ep], graphOptimizationLevel: 'all' });
    return new OrtEpSession(valid, weights, session);
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    checkPredictInput(this.spec, x, n);
    const [c, h, w] = this.spec.inputShape;
    const input = new ort.Tensor('float32', x.subarray(0, n * inputSize(this.spec)), [n, c!, h!, w!]);
    const out = await this.session.run({ [INPUT_NAME]: input });
    const logits = out[OUTPUT_NAME]!;
    const data = (await logits.getData()) as Float32Array;
    logits.dispose();
    return data.length === n * numClasses(this.spec) ? data : data.slice(0, n * numClasses(this.spec));
  }

  async getWeights(): Promise<Weights> {
    return cloneWeights(this.weights);
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

async function webgpuAdapter(): Promise<true | string> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'this browser has no WebGPU (navigator.gpu is missing)';
  try {
    return (await gpu.requestAdapter()) ? true : 'WebGPU has no adapter here (GPU disabled or blocklisted)';
  } catch (e) {
    return `WebGPU adapter request failed: ${(e as Error).message}`;
  }
}

function hasWebgl2(): boolean {
  try {
    return document.createElement('canvas').getContext('webgl2') !== null;
  } catch {
    return false;
  }
}

const ortWebGpu: Backend = {
  name: 'ort-web-webgpu',
  description: 'onnxruntime-web, WebGPU execution provider (inference only; the exported ONNX model)',
  canTrain: false,
  available: webgpuAdapter,
  async info() {
    return { runtime: `onnxruntime-web ${ort.env.versions.web} (WebGPU EP)`, versions: { 'onnxruntime-web': ort.env.versions.web ?? 'unknown' } };
  },
  createSession: (spec, weights) => OrtEpSession.create(spec, weights, 'webgpu'),
};

const ortWebGl: Backend = {
  name: 'ort-web-webgl',
  description: 'onnxruntime-web, WebGL execution provider',
  canTrain: false,
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

function tfjsNotInstalled(name: 'webgl' | 'webgpu', browserHas: () => Promise<true | string> | true | string): Backend {
  const pkg = `@tensorflow/tfjs-backend-${name}`;
  return defineTfjsBackend({
    name: `tfjs-${name}`,
    description: `TensorFlow.js 4.22, ${pkg}`,
    tfBackend: name,
    async load() {
      const has = await browserHas();
      throw new Error(`${pkg} is not installed in this workspace${has === true ? '' : `, and ${has}`}`);
    },
  });
}

export const BROWSER_BACKENDS: BrowserBackend[] = [
  { id: 'ort-web-wasm', family: 'ort-web', label: 'ort-web · wasm', wasm: true, run: onMainThread('ort-web-wasm', 'ort-web', '@lenet/backend-onnxruntime', ortWebBackend) },
  { id: 'ort-web-webgpu', family: 'ort-web', label: 'ort-web · webgpu', wasm: false, run: onMainThread('ort-web-webgpu', 'ort-web', '@lenet/web (onnxruntime-web)', ortWebGpu) },
  { id: 'ort-web-webgl', family: 'ort-web', label: 'ort-web · webgl', wasm: false, run: onMainThread('ort-web-webgl', 'ort-web', 'onnxruntime-web', ortWebGl) },
  { id: 'tfjs-wasm', family: 'tfjs', label: 'TF.js · wasm', wasm: true, run: onMainThread('tfjs-wasm', 'tfjs', '@lenet/backend-tfjs', createTfjsWasmBackend({ wasmPaths: WASM_DIR })) },
  { id: 'tfjs-cpu', family: 'tfjs', label: 'TF.js · cpu', wasm: false, run: onMainThread('tfjs-cpu', 'tfjs', '@lenet/backend-tfjs', tfjsCpuBackend) },
  { id: 'tfjs-webgl', family: 'tfjs', label: 'TF.js · webgl', wasm: false, run: onMainThread('tfjs-webgl', 'tfjs', '@lenet/backend-tfjs', tfjsNotInstalled('webgl', () => (hasWebgl2() ? true : 'this browser has no WebGL2 context'))) },
  { id: 'tfjs-webgpu', family: 'tfjs', label: 'TF.js · webgpu', wasm: false, run: onMainThread('tfjs-webgpu', 'tfjs', '@lenet/backend-tfjs', tfjsNotInstalled('webgpu', webgpuAdapter)) },
  { id: 'plain-wasm', family: 'plain', label: 'plain · wasm SIMD (worker)', wasm: true, run: inWorker('plain-wasm', 'wasm') },
  { id: 'plain-js', family: 'plain', label: 'plain · js (worker)', wasm: false, run: inWorker('plain-js', 'js') },
];

export const BACKEND_IDS = BROWSER_BACKENDS.map((b) => b.id);
export const WASM_BACKEND_IDS = BROWSER_BACKENDS.filter((b) => b.wasm).map((b) => b.id);
