/**
 * The two backends. Their runtimes, onnxruntime-node and onnxruntime-web, are optional peer
 * dependencies loaded lazily (dynamic import) on first use, with an error naming the npm
 * install command when missing; onnxruntime-node by a name bundlers do not follow, so this
 * module stays importable in browsers, where only ort-web can work.
 */
import type { BackendInfo, SessionOptions, TrainingBackend, TrainingOptions } from '@lenet/core';
import { BackendInputError, checkThreads } from '@lenet/core';
import type { InferenceSession } from 'onnxruntime-common';
import type { ModelSpec, Weights } from '@lenet/model';
import type { OrtModule } from './ort-module.js';
import { OrtSession } from './session.js';
import { nchwcBlockSize } from './nchwc.js';
import { missingRuntime } from './runtime-deps.js';

// ---------------------------------------------------------------- ort-node

type OrtNodeModule = OrtModule & { env: { versions: Record<string, string> } };
let ortNodePromise: Promise<OrtNodeModule> | undefined;
// Specifiers in variables keep browser bundlers from trying to pack the native addon / node:os.
const ORT_NODE = 'onnxruntime-node';
const NODE_OS = 'node:os';
export function loadOrtNode(): Promise<OrtNodeModule> {
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

export async function hardwareThreads(): Promise<number | undefined> {
  // In a browser, importing node:os is a failed network request (a console error): skip it.
  if (typeof process === 'undefined' || !process.versions?.node) return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  try {
    const os = (await import(/* @vite-ignore */ /* webpackIgnore: true */ NODE_OS)) as typeof import('node:os');
    return os.availableParallelism?.() ?? os.cpus().length;
  } catch {
    return typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : undefined;
  }
}

export const ortNodeBackend = {
  name: 'ort-node',
  description: 'onnxruntime-node: native ONNX Runtime, CPU execution provider; training via a generated ONNX training-step graph',
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
      runtime: `onnxruntime-node ${ort.env.versions.node} (CPU EP, ${threads ?? 'default'} intra-op threads, graph optimisation all${(threads ?? 1) > 1 ? `; training data-parallel on ${threads} threads` : ''})`,
      versions: { 'onnxruntime-node': ort.env.versions.node, 'onnxruntime-common': ort.env.versions.common },
      ...(threads !== undefined ? { threads } : {}),
    };
  },
  createSession: (spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<OrtSession> => createOrtNodeSession(spec, weights, options),
  // One session type predicts and trains.
  createTrainingSession: (spec: ModelSpec, weights: Weights, options: TrainingOptions = {}): Promise<OrtSession> => createOrtNodeSession(spec, weights, options, options.optimizer),
} satisfies TrainingBackend;

/** An ort-node session; `optimizer` (TrainingOptions.optimizer) only for training sessions. */
async function createOrtNodeSession(spec: ModelSpec, weights: Weights, options: SessionOptions, optimizer?: unknown): Promise<OrtSession> {
  // Default: one intra-op thread per hardware thread (what info() reports).
  const threads = checkThreads('ort-node', options.threads) ?? (await hardwareThreads());
  const ort = await loadOrtNode();
  return OrtSession.create(
    {
      backendName: 'ort-node',
      ort,
      sessionOptions: ortNodeOptions(threads),
      preallocatedOutputs: true,
      trainingGraph: async () => ({ nchwcBlock: await nchwcBlockSize(ort) }),
      // Training on any thread count is data-parallel over fixed micro-chunks (data-parallel.ts):
      // whole chunks on 1-thread sessions in parallel beat one session's intra-op threads on
      // LeNet's small tensors, and 1 thread runs the same arithmetic, so the weights are
      // bit-identical for any thread count.
      ...(threads !== undefined ? { dataParallel: { threads, runtime: 'onnxruntime-node' as const, mainRunsChunk: true } } : {}),
    },
    spec,
    weights,
    optimizer,
  );
}

// ---------------------------------------------------------------- ort-web

export type OrtWebModule = OrtModule & {
  env: {
    versions: Record<string, string>;
    wasm: { numThreads?: number; simd?: boolean | string; proxy?: boolean };
    /** Set by onnxruntime-web once its WebGPU EP is initialised (the GPUAdapter it uses). */
    webgpu?: { adapter?: unknown; powerPreference?: 'low-power' | 'high-performance' };
  };
};
let ortWebPromise: Promise<OrtWebModule> | undefined;
/** Thread count the wasm runtime was initialised with (fixed for the life of the process/page). */
let ortWebThreads: number | undefined;

export function loadOrtWeb(): Promise<OrtWebModule> {
  ortWebPromise ??= import('onnxruntime-web').then(
    (m) => ((m as unknown as { default?: OrtWebModule }).default?.InferenceSession ? (m as unknown as { default: OrtWebModule }).default : (m as unknown as OrtWebModule)),
    (e: unknown) => {
      throw missingRuntime('onnxruntime-web', 'ort-web', e);
    },
  );
  ortWebPromise.catch(() => (ortWebPromise = undefined));
  return ortWebPromise;
}

/**
 * Whether this environment can run onnxruntime-web's threaded wasm build: it needs
 * SharedArrayBuffer, and in browsers a cross-origin-isolated page. Node (worker_threads) can.
 */
function wasmThreadsPossible(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  const g = globalThis as { crossOriginIsolated?: boolean; process?: { versions?: { node?: string } } };
  return g.process?.versions?.node !== undefined || g.crossOriginIsolated === true;
}

/** Default thread count: every hardware thread when the threaded build can run, else 1. */
async function defaultWebThreads(): Promise<number> {
  return wasmThreadsPossible() ? ((await hardwareThreads()) ?? 1) : 1;
}

/**
 * onnxruntime-web initialises its wasm module once, with env.wasm.numThreads as it is at the
 * first session; later sessions cannot change it. So the first session's `threads` wins and a
 * later, different request is an error rather than a silent mismatch. Default: all hardware
 * threads where threads work (Node; cross-origin-isolated pages), else 1.
 */
async function ortWebThreadsFor(threads: number | undefined): Promise<number> {
  const wanted = threads ?? ortWebThreads ?? (await defaultWebThreads());
  if (ortWebThreads !== undefined && wanted !== ortWebThreads) {
    throw new BackendInputError(
      `ort-web: the wasm runtime of this process was initialised with ${ortWebThreads} thread(s); ` +
        `it cannot be re-initialised with ${wanted} (use a separate process for another thread count)`,
    );
  }
  return wanted;
}

export const ortWebBackend = {
  name: 'ort-web',
  description: 'onnxruntime-web: ONNX Runtime compiled to WebAssembly (SIMD, optional threads); training via a generated ONNX training-step graph',
  async available() {
    if (typeof WebAssembly === 'undefined') return 'WebAssembly is not available';
    try {
      await loadOrtWeb();
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  },
  async info(options: SessionOptions = {}): Promise<BackendInfo> {
    const threads = checkThreads('ort-web', options.threads) ?? ortWebThreads ?? (await defaultWebThreads());
    const ort = await loadOrtWeb();
    return {
      runtime: `onnxruntime-web ${ort.env.versions.web} (wasm EP, SIMD, ${threads} thread${threads === 1 ? '' : 's'}${webDataParallel(threads) ? `; training data-parallel on ${threads} worker threads, 1 wasm thread each` : ''})`,
      versions: { 'onnxruntime-web': ort.env.versions.web, 'onnxruntime-common': ort.env.versions.common },
      threads,
    };
  },
  createSession: (spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<OrtSession> => createOrtWebSession(spec, weights, options),
  // One session type predicts and trains.
  createTrainingSession: (spec: ModelSpec, weights: Weights, options: TrainingOptions = {}): Promise<OrtSession> => createOrtWebSession(spec, weights, options, options.optimizer),
} satisfies TrainingBackend;

/** An ort-web session; `optimizer` (TrainingOptions.optimizer) only for training sessions (Node only: the engine applies it). */
function createOrtWebSession(spec: ModelSpec, weights: Weights, options: SessionOptions, optimizer?: unknown): Promise<OrtSession> {
  return withOrtWeb('ort-web', options.threads, (ort) => {
    const threads = ortWebThreads ?? 1;
    return OrtSession.create(
      {
        backendName: 'ort-web',
        ort,
        // Same options as ort-node; the wasm EP takes its thread count from env.wasm.numThreads.
        sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all', executionMode: 'sequential', enableCpuMemArena: true, enableMemPattern: true },
        preallocatedOutputs: false,
        // In Node, training runs fixed micro-chunks on `threads` worker threads with one wasm
        // thread each (data-parallel.ts; the wasm build scales poorly over its own threads), 1
        // thread included: this thread's onnxruntime-web instance computes gradients that differ
        // in the last bits from a worker's (measured), so only workers compute, and the weights
        // are bit-identical for any thread count.
        ...(isNodeProcess() ? { dataParallel: { threads, runtime: 'onnxruntime-web' as const, mainRunsChunk: false } } : {}),
      },
      spec,
      weights,
      optimizer,
    );
  });
}

/** Node (worker_threads exist): ort-web trains on @lenet/parallel-node's engine there. */
function isNodeProcess(): boolean {
  return typeof process !== 'undefined' && process.versions?.node !== undefined;
}

/** ort-web trains on worker threads where they exist (Node) and more than one thread is asked for. */
function webDataParallel(threads: number): boolean {
  return threads > 1 && isNodeProcess();
}

/**
 * Runs `create` with onnxruntime-web loaded and its wasm thread count fixed (the first session
 * of the page/process fixes it, see ortWebThreadsFor). Shared by ort-web and ort-web-webgpu:
 * both EPs live in one onnxruntime-web instance and one wasm module.
 */
export async function withOrtWeb<T>(backend: string, threadsOption: unknown, create: (ort: OrtWebModule) => Promise<T>): Promise<T> {
  const threads = await ortWebThreadsFor(checkThreads(backend, threadsOption));
  const ort = await loadOrtWeb();
  const first = ortWebThreads === undefined;
  if (first) {
    ort.env.wasm.numThreads = threads;
    ortWebThreads = threads;
  }
  const result = await create(ort);
  // Where threads cannot run, onnxruntime-web falls back to 1 thread (with a console warning)
  // and says so in env.wasm.numThreads: record that so info() stays truthful.
  if (first && typeof ort.env.wasm.numThreads === 'number') ortWebThreads = ort.env.wasm.numThreads;
  return result;
}

export const backends: TrainingBackend[] = [ortNodeBackend, ortWebBackend];
