/**
 * ort-node: native ONNX Runtime through onnxruntime-node, an optional peer dependency loaded
 * lazily (dynamic import by a name bundlers do not follow), so this module is harmless in
 * browsers and in installs without onnxruntime-node.
 */
import type { Backend, BackendInfo, SessionOptions } from '@lenet/core';
import type { InferenceSession } from 'onnxruntime-common';
import type { ModelSpec, Weights } from '@lenet/model';
import type { OrtModule } from './session.js';
import { OrtSession } from './session.js';
import { checkThreads, missingRuntime } from './runtime-deps.js';

type OrtNodeModule = OrtModule & { env: { versions: Record<string, string> } };
let ortNodePromise: Promise<OrtNodeModule> | undefined;
// Specifiers in variables keep browser bundlers from trying to pack the native addon / node:os.
const ORT_NODE = 'onnxruntime-node';
const NODE_OS = 'node:os';
function loadOrtNode(): Promise<OrtNodeModule> {
  ortNodePromise ??= (import(/* @vite-ignore */ /* webpackIgnore: true */ ORT_NODE) as Promise<unknown>).then(
    (m) => ((m as unknown as { default?: OrtNodeModule }).default ?? m) as unknown as OrtNodeModule,
    (e: unknown) => {
      throw missingRuntime(ORT_NODE, 'ort-node', e);
    },
  );
  ortNodePromise.catch(() => (ortNodePromise = undefined));
  return ortNodePromise;
}

function ortNodeOptions(threads: number | undefined): InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    // 0 would let ORT pick; an explicit count keeps info() truthful.
    intraOpNumThreads: threads ?? 0,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: true,
    enableMemPattern: true,
  };
}

async function hardwareThreads(): Promise<number | undefined> {
  try {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS)) as typeof import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  }
}

export const ortNodeBackend: Backend = {
  name: 'ort-node',
  description: 'onnxruntime-node: native ONNX Runtime, CPU execution provider; training via a generated ONNX training-step graph',
  canTrain: true,
  async available() {
    if (typeof process === 'undefined' || !process.versions?.node) return 'onnxruntime-node needs Node.js';
    try {
      await loadOrtNode();
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  },
  async info(options: SessionOptions = {}): Promise<BackendInfo> {
    const threads = checkThreads('ort-node', options.threads) ?? (await hardwareThreads());
    const ort = await loadOrtNode();
    return {
      runtime: `onnxruntime-node ${ort.env.versions.node} (CPU EP, ${threads ?? 'default'} intra-op threads, graph optimisation all)`,
      versions: { 'onnxruntime-node': ort.env.versions.node, 'onnxruntime-common': ort.env.versions.common },
      ...(threads !== undefined ? { threads } : {}),
    };
  },
  async createSession(spec: ModelSpec, weights: Weights, options: SessionOptions = {}) {
    // Default: one intra-op thread per hardware thread (what info() reports).
    const threads = checkThreads('ort-node', options.threads) ?? (await hardwareThreads());
    const ort = await loadOrtNode();
    return OrtSession.create(
      { backendName: 'ort-node', ort, sessionOptions: ortNodeOptions(threads), preallocatedOutputs: true },
      spec,
      weights,
    );
  },
};

