/**
 * ORT training on T threads as data parallelism on @lenet/parallel-node's engine: the batch is cut
 * into fixed micro-chunks of ORT_MICRO_CHUNK samples, each run through the gradients-only
 * training graph (buildTrainingGraph with gradientsOnly) in a 1-thread session, the threads
 * computing contiguous runs of micro-chunks at the same time, and the SGD update applied here
 * from the micro-chunks' size-weighted gradients (float64, micro-chunk order). The cut does not
 * depend on T, so the weights are bit-identical for any thread count (1 included: then this
 * thread computes every micro-chunk).
 *
 * - ort-node: the main thread computes the first run of micro-chunks in its own 1-intra-op-thread
 *   session, T-1 worker threads (train-worker.ts) the others;
 * - ort-web (Node): T workers with one wasm thread each, 1 included; the main thread only
 *   coordinates (its onnxruntime-web instance keeps the process-wide thread count, for inference,
 *   and its gradients differ in the last bits from a worker instance's even on 1 wasm thread).
 *
 * Why: LeNet's tensors are small, so ORT's intra-op parallelism splits each op's work into
 * pieces too short to scale (measured on 2 vCPUs: ort-node 1 thread ~5,500 img/s, 2 intra-op
 * threads ~8,300 lenet5 / ~6,900 lenet5-modern; ort-web +30% from a second wasm thread);
 * whole chunks in parallel keep every core busy (docs/perf/ort-training-profile.md has the A/B).
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { DataParallelEngine, findWorkerScript, type ChunkResult } from '@lenet/parallel-node';
import type { SgdMomentum } from '@lenet/core';
import type { OrtModule } from './ort-module.js';

/** One parameter as the chunk graph names it. */
export interface OrtChunkParam {
  name: string;
  gradName: string;
  shape: number[];
  size: number;
}

/** The runtime a worker loads: onnxruntime-node, or onnxruntime-web (wasm, 1 thread). */
export type OrtChunkRuntime = 'onnxruntime-node' | 'onnxruntime-web';

/**
 * Samples per micro-chunk (fixed: it defines the reduction order, so changing it changes the
 * trained weights). 64 keeps a batch of 128 at today's two chunks on 2 threads; see README.md for
 * the 32-vs-64 measurement.
 */
export const ORT_MICRO_CHUNK = 64;

/** What train-worker.ts receives (MicroChunkWorkerInit.data). */
export interface OrtChunkWorkerData {
  runtime: OrtChunkRuntime;
  graph: Uint8Array;
  sessionOptions: InferenceSession.SessionOptions;
  inputName: string;
  labelsName: string;
  lossName: string;
  inputShape: [number, number, number];
  params: OrtChunkParam[];
}

export interface DataParallelConfig extends OrtChunkWorkerData {
  backendName: string;
  /** The main thread's runtime (the same as `runtime`). */
  ort: OrtModule;
  /** Whether the main thread computes micro-chunks itself (ort-node) or only coordinates (ort-web). */
  mainRunsChunk: boolean;
  threads: number;
  /** Samples per micro-chunk (default ORT_MICRO_CHUNK). */
  microChunk?: number;
  /** The session's optimizer when it is not plain SGD (the engine applies it and keeps its velocity). */
  optimizer?: SgdMomentum;
}

// In variables, not literals: see findWorkerScript.
const WORKER_FILE = './train-worker.js';
const BUILT_WORKER_FILE = '../dist/train-worker.js';

export class DataParallelTrainer {
  private readonly lossBuf = new Float32Array(1);
  /** The main thread's chunk gradients, all parameters in one array (canonical order). */
  private readonly mainGrads: Float32Array;
  private readonly fetches: Record<string, OrtTensor>;
  private readonly size: number;

  private constructor(
    private readonly config: DataParallelConfig,
    /** The main thread's 1-thread session, or null when it only coordinates. */
    private readonly session: InferenceSession | null,
    private readonly engine: DataParallelEngine,
  ) {
    const [c, h, w] = config.inputShape;
    this.size = c * h * w;
    this.mainGrads = new Float32Array(config.params.reduce((a, p) => a + p.size, 0));
    const { Tensor } = config.ort;
    this.fetches = { [config.lossName]: new Tensor('float32', this.lossBuf, []) };
    let off = 0;
    for (const p of config.params) {
      this.fetches[p.gradName] = new Tensor('float32', this.mainGrads.subarray(off, off + p.size), p.shape);
      off += p.size;
    }
  }

  static async create(config: DataParallelConfig): Promise<DataParallelTrainer> {
    const sessionOptions = { ...config.sessionOptions, intraOpNumThreads: 1 };
    const session = config.mainRunsChunk ? await config.ort.InferenceSession.create(config.graph, sessionOptions) : null;
    const [c, h, w] = config.inputShape;
    const data: OrtChunkWorkerData = {
      runtime: config.runtime,
      graph: config.graph,
      sessionOptions,
      inputName: config.inputName,
      labelsName: config.labelsName,
      lossName: config.lossName,
      inputShape: config.inputShape,
      params: config.params,
    };
    try {
      const workers = config.mainRunsChunk ? config.threads - 1 : config.threads;
      const engine = await DataParallelEngine.create({
        label: config.backendName,
        ...(workers > 0 ? { script: await findWorkerScript(import.meta.url, WORKER_FILE, BUILT_WORKER_FILE), data } : {}),
        workers,
        inputSize: c * h * w,
        paramCount: config.params.reduce((a, p) => a + p.size, 0),
        microChunk: config.microChunk ?? ORT_MICRO_CHUNK,
        ...(config.optimizer ? { optimizer: config.optimizer } : {}),
      });
      return new DataParallelTrainer(config, session, engine);
    } catch (e) {
      await session?.release();
      throw e;
    }
  }

  /**
   * One SGD step: writes param - lr * grad into `next` (same shapes as `params`) and returns the
   * batch's mean loss. `x`/`y` hold at least n samples.
   */
  async step(x: Float32Array, y: Int32Array, n: number, lr: number, params: Float32Array[], next: Float32Array[]): Promise<number> {
    const { session } = this;
    return this.engine.step(x, y, n, lr, params, next, session ? (x, y, start, m) => this.runChunk(session, x, y, start, m, params) : null);
  }

  /** Micro-chunk [start, start + m) on this thread's 1-thread session: its mean loss and gradients. */
  private async runChunk(session: InferenceSession, x: Float32Array, y: Int32Array, start: number, m: number, params: Float32Array[]): Promise<ChunkResult> {
    const { config, size } = this;
    const { Tensor } = config.ort;
    const feeds: Record<string, OrtTensor> = {
      [config.inputName]: new Tensor('float32', x.subarray(start * size, (start + m) * size), [m, ...config.inputShape]),
      [config.labelsName]: new Tensor('int32', y.subarray(start, start + m), [m]),
    };
    config.params.forEach((p, i) => (feeds[p.name] = new Tensor('float32', params[i]!, p.shape)));
    await session.run(feeds, this.fetches);
    return { loss: this.lossBuf[0]!, grads: this.mainGrads };
  }

  async dispose(): Promise<void> {
    await this.engine.dispose();
    await this.session?.release();
  }
}
