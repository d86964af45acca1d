/**
 * ort-web-webgpu: onnxruntime-web's WebGPU execution provider (browsers with WebGPU only), on
 * the same onnxruntime-web instance and wasm module as ort-web (its default bundle holds both
 * EPs), through the same OrtSession as ort-node/ort-web: inference runs the exported model
 * (all 12 nodes on the WebGPU EP), training the generated training-step graph, whose nodes run
 * on the WebGPU EP except 8 small ones of the loss that the EP lacks (label Cast, batch-size
 * Gather, OneHot, SoftmaxCrossEntropyLoss's LogSoftmax) and ORT places on its CPU EP (checked
 * with ORT's verbose node-placement log, onnxruntime-web 1.30).
 */
import type { BackendInfo, GpuAdapterInfo, SessionOptions, TrainingBackend, TrainingOptions } from '@lenet/core';
import { requestWebgpuAdapter, webgpuAdapterInfo, type WebGpuAdapterLike } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { loadOrtWeb, withOrtWeb, type OrtWebModule } from './backends.js';
import { OrtSession } from './session.js';

const NAME = 'ort-web-webgpu';

/** The adapter ORT's WebGPU EP uses (env.webgpu.adapter once initialised), else one requested like ORT requests it. */
async function adapterOf(ort: OrtWebModule): Promise<GpuAdapterInfo | string> {
  const used = ort.env.webgpu?.adapter as WebGpuAdapterLike | undefined;
  if (used && typeof used === 'object') return webgpuAdapterInfo(used);
  return requestWebgpuAdapter(ort.env.webgpu?.powerPreference);
}

export const ortWebGpuBackend = {
  name: NAME,
  description: 'onnxruntime-web, WebGPU execution provider (browsers with WebGPU only); training via the generated training-step graph (its loss nodes on the CPU EP)',
  async available() {
    const adapter = await requestWebgpuAdapter();
    if (typeof adapter === 'string') return adapter;
    try {
      await loadOrtWeb();
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  },
  async info(): Promise<BackendInfo> {
    const ort = await loadOrtWeb();
    const adapter = await adapterOf(ort);
    if (typeof adapter === 'string') throw new Error(`${NAME}: ${adapter}`);
    return {
      runtime: `onnxruntime-web ${ort.env.versions.web} (WebGPU EP, graph optimisation all)`,
      versions: { 'onnxruntime-web': ort.env.versions.web, 'onnxruntime-common': ort.env.versions.common },
      ...adapter,
    };
  },
  createSession: (spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<OrtSession> => createWebGpuSession(spec, weights, options),
  // One session type predicts and trains (plain SGD only: OrtSession.create refuses an optimizer here).
  createTrainingSession: (spec: ModelSpec, weights: Weights, options: TrainingOptions = {}): Promise<OrtSession> => createWebGpuSession(spec, weights, options, options.optimizer),
} satisfies TrainingBackend;

function createWebGpuSession(spec: ModelSpec, weights: Weights, options: SessionOptions, optimizer?: unknown): Promise<OrtSession> {
  return withOrtWeb(NAME, options.threads, (ort) =>
    OrtSession.create({ backendName: NAME, ort, sessionOptions: { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' }, preallocatedOutputs: false }, spec, weights, optimizer),
  );
}
