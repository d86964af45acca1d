/**
 * The generic TF.js backend: one implementation of the core contract, parametrised by which
 * TF.js backend runs the kernels (cpu, wasm, tensorflow (tfjs-node), webgl, webgpu, ...).
 * A concrete backend only says how to load its TF.js backend package; see backends.ts.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Backend, BackendInfo, BackendSession, GpuAdapterInfo, SessionOptions } from '@lenet/core';
import { checkPredictInput, checkSessionInput, checkTrainInput } from '@lenet/core';
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
}

const DEFAULT_GRADIENT_KERNELS: GradientKernels = {
  filterGrad: 'conv2d',
  inputGrad: 'conv2d',
  maxPoolGrad: 'native',
  avgPoolGrad: 'native',
};

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
async function activate(tfBackend: string, name: string): Promise<void> {
  if (tf.engine().backendName === tfBackend) return;
  const ok = await tf.setBackend(tfBackend);
  if (!ok) {
    throw new Error(`${name}: TF.js backend '${tfBackend}' failed to initialise (see the warning above for the cause)`);
  }
}

/** Turns a definition into a contract Backend. */
export function defineTfjsBackend(definition: TfjsBackendDefinition): Backend {
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
    const details = loaded.details?.();
    const threads = loaded.threads?.();
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

  return {
    name,
    description: definition.description,
    canTrain: true,
    async available(): Promise<true | string> {
      try {
        await ready();
        return true;
      } catch (e) {
        return errorMessage(e);
      }
    },
    info,
    async createSession(spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<BackendSession> {
      const valid = checkSessionInput(spec, weights, name);
      await ready(options);
      const network = new TfjsNetwork(valid, weights, gradientKernels);
      return new TfjsSession(name, tfBackend, network);
    },
  };
}

class TfjsSession implements BackendSession {
  private disposed = false;

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
    const loss = this.network.trainStepTensor(x, y, n, lr);
    try {
      // The one device->host read per step the contract needs.
      return (await loss.data())[0];
    } finally {
      loss.dispose();
    }
  }

  async getWeights(): Promise<Weights> {
    await this.begin();
    return this.network.getWeights();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.network.dispose();
  }
}
