/**
 * The generic TF.js backend: one implementation of the core contract, parametrised by which
 * TF.js backend runs the kernels (cpu, wasm, tensorflow (tfjs-node), webgl, webgpu, ...).
 * A concrete backend only says how to load its TF.js backend package; see backends.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendInfo, GpuAdapterInfo, SessionOptions, SgdMomentum, TrainingBackend, TrainingOptions, TrainingSession } from '@lenet/core';
import { BackendInputError, checkOptimizer, checkPredictInput, checkSessionInput, checkThreads, checkTrainInput, refuseOptimizer } from '@lenet/core';
import type { DataParallelEngine } from '@lenet/parallel-node';
import type { ModelSpec, Weights } from '@lenet/model';
import { registerConvViaConv2DKernels } from './kernels/register.js';
import type { GradientKernels } from './network.js';
import { TfjsNetwork } from './network.js';

/** What a loaded TF.js backend reports about itself. */
export interface LoadedTfjsBackend {
  /** Package versions, name -> version (tfjs-core is added automatically). */
  versions: Record<string, string>;
  /** Extra runtime details for BackendInfo.runtime, e.g. "simd, 1 thread". Called after init. */
  details?(): string;
  /** Threads the backend actually uses, when known. Called after init. */
  threads?(): number | undefined;
  /** GPU backends: the device the kernels run on (see gpu.ts). Called after init. */
  adapter?(): GpuAdapterInfo;
}

export interface TfjsBackendDefinition {
  /** Contract name, e.g. "tfjs-wasm". */
  name: string;
  description: string;
  /** The TF.js backend name passed to tf.setBackend, e.g. "wasm". */
  tfBackend: string;
  /**
   * Imports the TF.js backend package (which registers `tfBackend`) and configures it before
   * its first initialisation (wasm paths, threads). Called once; a rejection makes the backend
   * unavailable with the error's message as the reason.
   */
  load(options: SessionOptions): Promise<LoadedTfjsBackend>;
  /** Kernels for the gradients; default: Conv2D composites for convs, native pool kernels. */
  gradientKernels?: Partial<GradientKernels>;
  /**
   * Node: train data-parallel on @lenet/parallel-node's engine, on any thread count (fixed
   * micro-chunks of TFJS_MICRO_CHUNK, so bit-identical for any thread count): `threads` − 1
   * worker threads (train-worker.ts) build this same backend with `factory` and these options,
   * each running single-threaded. For TF.js backends that run on one thread in Node (cpu, wasm).
   */
  dataParallel?: TfjsChunkWorkerData['backend'];
}

/** What a data-parallel worker (train-worker.ts) needs: how to build the backend, and the model. */
export interface TfjsChunkWorkerData {
  backend: { factory: 'cpu' | 'wasm'; options: { name?: string; gradientKernels?: Partial<GradientKernels>; wasmPaths?: string | Record<string, string> } };
  spec: ModelSpec;
}

const DEFAULT_GRADIENT_KERNELS: GradientKernels = {
  filterGrad: 'conv2d',
  inputGrad: 'conv2d',
  maxPoolGrad: 'native',
  avgPoolGrad: 'native',
};

/** Whether this runs in Node.js (not a browser or a Web Worker). */
export function isNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

/** Hardware threads in Node (node:os imported by a name bundlers do not follow). */
async function nodeHardwareThreads(): Promise<number> {
  const os = 'node:os';
  const m = (await import(/* @vite-ignore */ /* webpackIgnore: true */ os)) as typeof import('node:os');
  return m.availableParallelism?.() ?? m.cpus().length;
}

/**
 * Training threads of a data-parallel backend in Node: options.threads (a positive integer) or
 * every hardware thread; 1 elsewhere and for backends without data parallelism.
 */
async function trainThreads(definition: TfjsBackendDefinition, options: SessionOptions): Promise<number> {
  const t = checkThreads(definition.name, options.threads); // a bad value is an error everywhere
  if (!definition.dataParallel || !isNode()) return 1;
  return t ?? nodeHardwareThreads();
}

/** Node: the installed tfjs-backend-wasm's dist/ folder, where its .wasm files are. */
export function nodeWasmDir(): string | undefined {
  if (!isNode()) return undefined;
  try {
    // The package main is dist/tf-backend-wasm.node.js; the .wasm files sit next to it.
    const main = import.meta.resolve('@tensorflow/tfjs-backend-wasm');
    return main.slice(0, main.lastIndexOf('/') + 1);
  } catch {
    return undefined; // let tfjs-backend-wasm look next to its own script
  }
}

/**
 * Samples per micro-chunk of data-parallel training (fixed: it defines the reduction order, so
 * changing it changes the trained weights). 64 keeps a batch of 128 at two chunks on 2 threads;
 * README.md has the 32-vs-64 measurement.
 */
export const TFJS_MICRO_CHUNK = 64;

// In variables, not literals: see findWorkerScript. The engine's package too: it is Node-only,
// and this module also runs in browsers (bundlers must not follow it).
const PARALLEL_PACKAGE = '@lenet/parallel-node';
const WORKER_FILE = './train-worker.js';
const BUILT_WORKER_FILE = '../dist/train-worker.js';

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Makes `tfBackend` the active TF.js backend. tf.setBackend is process-global: sessions of
 * different TF.js backends in one process work (each call switches, and TF.js moves tensors
 * between backends on demand), but switching costs time, so the harness runs one backend per
 * process. The check reads engine().backendName, which (unlike tf.getBackend()) does not
 * initialise a default backend as a side effect.
 */
export function activate(tfBackend: string, name: string): Promise<void> {
  // One switch at a time: a tf.setBackend issued while another backend's async initialisation
  // is pending makes that one resolve false (e.g. `lenet-bench backends` probing tfjs-wasm and
  // tfjs-layers-cpu concurrently), so concurrent callers queue here.
  const next = switching.then(async () => {
    if (tf.engine().backendName === tfBackend) return;
    const ok = await tf.setBackend(tfBackend);
    if (!ok) {
      throw new Error(`${name}: TF.js backend '${tfBackend}' failed to initialise (see the warning above for the cause)`);
    }
  });
  switching = next.catch(() => {});
  return next;
}
let switching: Promise<void> = Promise.resolve();

/** Turns a definition into a contract Backend. */
export function defineTfjsBackend(definition: TfjsBackendDefinition): TrainingBackend {
  const { name, tfBackend } = definition;
  const gradientKernels: GradientKernels = { ...DEFAULT_GRADIENT_KERNELS, ...definition.gradientKernels };
  let loading: Promise<LoadedTfjsBackend> | undefined;

  /** Loads the package once, initialises the TF.js backend and registers our kernels. */
  async function ready(options: SessionOptions = {}): Promise<LoadedTfjsBackend> {
    loading ??= definition.load(options);
    let loaded: LoadedTfjsBackend;
    try {
      loaded = await loading;
    } catch (e) {
      throw new Error(`${name} is not available: ${errorMessage(e)}`, { cause: e });
    }
    registerConvViaConv2DKernels(tfBackend);
    await activate(tfBackend, name);
    return loaded;
  }

  async function info(options?: SessionOptions): Promise<BackendInfo> {
    const loaded = await ready(options);
    const versions: Record<string, string> = { '@tensorflow/tfjs-core': tf.version_core, ...loaded.versions };
    const train = await trainThreads(definition, options ?? {});
    const details = [loaded.details?.(), train > 1 ? `training data-parallel on ${train} threads` : ''].filter(Boolean).join('; ');
    const threads = train > 1 ? train : loaded.threads?.();
    const result: BackendInfo = {
      runtime: `tfjs ${tf.version_core} ${tfBackend}${details ? ` (${details})` : ''}`,
      versions,
    };
    if (threads !== undefined) result.threads = threads;
    const adapter = loaded.adapter?.();
    if (adapter) {
      result.adapter = adapter.adapter;
      result.softwareFallback = adapter.softwareFallback;
    }
    return result;
  }

  const backend = {
    name,
    description: definition.description,
    async available(): Promise<true | string> {
      try {
        await ready();
        return true;
      } catch (e) {
        return errorMessage(e);
      }
    },
    info,
    createSession: (spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<TfjsSession> => newSession(spec, weights, options, undefined),
    // One session type predicts and trains. The optimizer needs the data-parallel engine (Node,
    // tfjs-cpu / tfjs-wasm): the single-thread path's update is tf's own plain SGD.
    createTrainingSession: (spec: ModelSpec, weights: Weights, options: TrainingOptions = {}): Promise<TfjsSession> => {
      const sgd = checkOptimizer(name, options.optimizer);
      if (sgd && !(definition.dataParallel && isNode())) refuseOptimizer(`${name} (outside Node's data-parallel engine)`, sgd);
      return newSession(spec, weights, options, sgd);
    },
  } satisfies TrainingBackend;

  async function newSession(spec: ModelSpec, weights: Weights, options: SessionOptions, optimizer: SgdMomentum | undefined): Promise<TfjsSession> {
    const valid = checkSessionInput(spec, weights, name);
    const threads = await trainThreads(definition, options);
    await ready(options);
    const network = new TfjsNetwork(valid, weights, gradientKernels);
    const session = new TfjsSession(name, tfBackend, network);
    if (definition.dataParallel && isNode()) {
      const { DataParallelEngine, findWorkerScript } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ PARALLEL_PACKAGE)) as typeof import('@lenet/parallel-node');
      const data: TfjsChunkWorkerData = { backend: definition.dataParallel, spec: valid };
      session.engine = await DataParallelEngine.create({
        label: name,
        ...(threads > 1 ? { script: await findWorkerScript(import.meta.url, WORKER_FILE, BUILT_WORKER_FILE), data } : {}),
        workers: threads - 1,
        inputSize: valid.inputShape.reduce((a, b) => a * b, 1),
        paramCount: network.paramCount,
        microChunk: TFJS_MICRO_CHUNK,
        ...(optimizer ? { optimizer } : {}),
      });
    }
    return session;
  }
  return backend;
}

export class TfjsSession implements TrainingSession {
  private disposed = false;
  /** Data-parallel training (Node, backends with `dataParallel`); the first micro-chunks run on this thread. */
  engine: DataParallelEngine | null = null;

  constructor(
    private readonly name: string,
    private readonly tfBackend: string,
    private readonly network: TfjsNetwork,
  ) {}

  private async begin(): Promise<void> {
    if (this.disposed) throw new Error(`${this.name}: session used after dispose()`);
    await activate(this.tfBackend, this.name);
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    checkPredictInput(this.network.spec, x, n);
    await this.begin();
    const logits = this.network.predictTensor(x, n);
    try {
      // data() of a disposed-right-after tensor: the array is the caller's alone.
      return (await logits.data()) as Float32Array;
    } finally {
      logits.dispose();
    }
  }

  async trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    checkTrainInput(this.network.spec, x, y, n, lr);
    await this.begin();
    if (this.engine) return this.trainStepParallel(x, y, n, lr, this.engine);
    const loss = this.network.trainStepTensor(x, y, n, lr);
    try {
      // The one device->host read per step the contract needs.
      return (await loss.data())[0];
    } finally {
      loss.dispose();
    }
  }

  /**
   * Data-parallel step (@lenet/parallel-node): the later micro-chunks on the workers, the first
   * ones here meanwhile, then the SGD update from the size-weighted micro-chunk gradients
   * (float64, micro-chunk order).
   */
  private async trainStepParallel(x: Float32Array, y: Int32Array, n: number, lr: number, engine: DataParallelEngine): Promise<number> {
    const params = this.network.tfParams();
    const next = params.map((p) => new Float32Array(p.length));
    const size = this.network.spec.inputShape.reduce((a, b) => a * b, 1);
    const loss = await engine.step(x, y, n, lr, params, next, (x, y, start, m) => this.chunkGradients(x.subarray(start * size, (start + m) * size), y.subarray(start, start + m), m));
    this.network.setTfParams(next);
    return loss;
  }

  /**
   * One chunk's mean loss and mean-loss gradients (all parameters in one array, TF layouts, the
   * order of TfjsNetwork.tfParams), optionally after setting the parameters from `params`
   * (same order). What a data-parallel worker computes (train-worker.ts).
   */
  chunkGradients(x: Float32Array, y: Int32Array, n: number, params?: Float32Array): { loss: number; grads: Float32Array } {
    if (params) this.network.setTfParams(params);
    const { loss, grads } = this.network.lossAndGradientTensors(x, y, n);
    try {
      const flat = new Float32Array(this.network.paramCount);
      let off = 0;
      for (const g of grads) {
        const d = g.dataSync() as Float32Array;
        flat.set(d, off);
        off += d.length;
      }
      return { loss: (loss.dataSync() as Float32Array)[0]!, grads: flat };
    } finally {
      loss.dispose();
      for (const g of grads) g.dispose();
    }
  }

  async getWeights(): Promise<Weights> {
    await this.begin();
    return this.network.getWeights();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const engine = this.engine;
    this.engine = null;
    await engine?.dispose();
    this.network.dispose();
  }
}
