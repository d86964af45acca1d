/**
 * The data-parallel training engine: one SGD step over a batch cut into fixed micro-chunks
 * (the rule in @lenet/core's micro-chunks.ts), computed by this thread and/or worker threads (worker-pool.ts), reduced in
 * micro-chunk order in float64. Thread t of T computes the contiguous micro-chunks
 * threadChunkRanges(C, T)[t]; with a local compute this thread is thread 0, else only the
 * workers compute and this thread coordinates. With no workers, this thread computes every
 * micro-chunk: the 1-thread case runs the very same arithmetic, which is what makes the weights
 * bit-identical for any thread count.
 */
import { microChunkSizes, sgdFromMicroChunks, threadChunkRanges, type OptimizerState, type SgdMomentum } from '@lenet/core';
import { MicroChunkPool, type ChunkResult } from './worker-pool.js';

/** This thread's compute: micro-chunk [start, start + m) of x/y, with the step's parameters. */
export type LocalCompute = (x: Float32Array, y: Int32Array, start: number, m: number) => ChunkResult | Promise<ChunkResult>;

export interface DataParallelEngineOptions<T> {
  /** Names the engine and its workers in errors, e.g. the backend name. */
  label: string;
  /** Worker threads to start (0: this thread computes everything; needs a local compute). */
  workers: number;
  /** The worker script (it calls serveMicroChunkWorker); required when workers > 0. */
  script?: URL;
  /** The backend's own start-up data for the workers. */
  data?: T;
  /** Floats per sample. */
  inputSize: number;
  /** Floats of all parameters together. */
  paramCount: number;
  /** Samples per micro-chunk: fixed per backend, never derived from the thread count. */
  microChunk: number;
  /**
   * The session's optimizer when it is not plain SGD (checkOptimizer's result); its velocity
   * lives in this engine, so one engine serves exactly one training session.
   */
  optimizer?: SgdMomentum;
}

export class DataParallelEngine {
  /** Gradients of the micro-chunks this thread computed but its last (copied: a compute may reuse its array). */
  private readonly localGrads: Float32Array[] = [];
  private losses = new Float64Array(0);
  private readonly acc: Float64Array;
  private readonly optimizer: OptimizerState | undefined;

  private constructor(
    private readonly options: DataParallelEngineOptions<unknown>,
    private readonly pool: MicroChunkPool | null,
  ) {
    this.acc = new Float64Array(options.paramCount);
    this.optimizer = options.optimizer ? { sgd: options.optimizer, velocity: new Float64Array(options.paramCount) } : undefined;
  }

  static async create<T>(options: DataParallelEngineOptions<T>): Promise<DataParallelEngine> {
    const { label, workers, microChunk } = options;
    if (!Number.isInteger(workers) || workers < 0) throw new RangeError(`${label}: workers must be a non-negative integer, got ${workers}`);
    if (!Number.isInteger(microChunk) || microChunk < 1) throw new RangeError(`${label}: micro-chunk size must be a positive integer, got ${microChunk}`);
    if (workers === 0) return new DataParallelEngine(options, null);
    if (!options.script) throw new Error(`${label}: ${workers} worker(s) asked for without a worker script`);
    const pool = await MicroChunkPool.create({ ...options, script: options.script, data: options.data });
    return new DataParallelEngine(options, pool);
  }

  /** Worker threads (not counting this one). */
  get workers(): number {
    return this.pool?.size ?? 0;
  }

  get microChunk(): number {
    return this.options.microChunk;
  }

  /**
   * One SGD step on the first n samples of x/y: writes fround(param − lr·g) (or the optimizer's
   * update) into `next` (same
   * shapes as `params`) and returns the batch's mean loss. `local`: this thread computes the
   * first range of micro-chunks (null: only the workers compute). Every started worker is joined
   * even if another part failed, so none still writes into its buffer when this returns.
   */
  async step(
    x: Float32Array, y: Int32Array, n: number, lr: number,
    params: readonly Float32Array[], next: Float32Array[],
    local: LocalCompute | null,
  ): Promise<number> {
    const { microChunk, label } = this.options;
    const workers = this.workers;
    const threads = workers + (local ? 1 : 0);
    if (threads === 0) throw new Error(`${label}: a step needs a local compute or worker threads`);
    const sizes = microChunkSizes(n, microChunk);
    const ranges = threadChunkRanges(sizes.length, threads);
    const workerRanges = local ? ranges.slice(1) : ranges;
    if (this.losses.length < sizes.length) this.losses = new Float64Array(sizes.length);
    const grads: Float32Array[] = new Array<Float32Array>(sizes.length);

    // Start the workers first, so they compute while this thread does.
    const started: { w: number; first: number; m: number }[] = [];
    let startError: unknown;
    for (let w = 0; w < workerRanges.length; w++) {
      const { first, end } = workerRanges[w]!;
      if (first === end) continue;
      const start = first * microChunk;
      const m = Math.min(end * microChunk, n) - start;
      try {
        await this.pool!.start(w, x, y, start, m, params);
      } catch (e) {
        startError = e;
        break;
      }
      started.push({ w, first, m });
    }
    let localError: unknown;
    if (local && startError === undefined) {
      try {
        const { first, end } = ranges[0]!;
        for (let k = first; k < end; k++) {
          const r = await local(x, y, k * microChunk, sizes[k]!);
          if (k === end - 1) {
            // The last local result is reduced before this thread computes again: no copy.
            grads[k] = r.grads;
          } else {
            const slot = k - first;
            this.localGrads[slot] ??= new Float32Array(this.options.paramCount);
            this.localGrads[slot]!.set(r.grads);
            grads[k] = this.localGrads[slot]!;
          }
          this.losses[k] = r.loss;
        }
      } catch (e) {
        localError = e;
      }
    }
    // Poll only when this thread computed too (a polling coordinator would take a core from the workers).
    const joined = await Promise.allSettled(started.map((s) => this.pool!.join(s.w, s.m, local !== null)));
    if (startError !== undefined) throw startError;
    if (localError !== undefined) throw localError;
    joined.forEach((r, i) => {
      if (r.status === 'rejected') throw r.reason;
      const { first } = started[i]!;
      r.value.grads.forEach((g, c) => (grads[first + c] = g));
      this.losses.set(r.value.losses, first);
    });
    return sgdFromMicroChunks(params, sizes, this.losses, grads, lr, next, this.acc, this.optimizer);
  }

  async dispose(): Promise<void> {
    await this.pool?.dispose();
  }
}
