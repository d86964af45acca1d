/**
 * A plain-backend session: the main thread plus (threads - 1) worker threads, all running the
 * same Runner over shared parameter and I/O buffers. Commands are dispatched by bumping a
 * generation counter (Atomics.notify) and joined by waiting on a done counter (Atomics.wait);
 * the main thread works too, claiming micro-chunks like the workers. Batches of a single micro-chunk (e.g. batch-1
 * inference) run on the main thread alone, with no synchronisation at all.
 */
import type { SgdMomentum, TrainingSession } from '@lenet/core';
import { checkPredictInput, checkTrainInput, microChunkCount } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { flattenWeights, unflattenWeights } from '@lenet/model';
import { buildPlan, type Plan } from './plan.js';
import { Engine } from './engine.js';
import { jsKernels, type Kernels } from './kernels.js';
import { instantiateWasm } from './wasm.js';
import {
  allocIo, CHUNK, Cmd, CONTROL_BYTES, Ctl, ERROR_TEXT_OFFSET, Runner, type IoBuffers,
} from './runner.js';
import type { WorkerInit } from './worker-types.js';
import { platform, type PlatformWorker } from './platform.js';

export type Tier = 'js' | 'wasm';

export interface PlainSessionConfig {
  backendName: string;
  spec: ModelSpec;
  weights: Weights;
  /** Compiled SIMD kernels, or null for the JS tier. */
  module: WebAssembly.Module | null;
  threads: number;
  maxBatchSize: number;
  /** The optimizer when it is not plain SGD (checkOptimizer's result). */
  optimizer?: SgdMomentum;
}

export class PlainSession implements TrainingSession {
  readonly plan: Plan;
  readonly threads: number;
  private readonly shared: boolean;
  private readonly control: ArrayBufferLike;
  private readonly paramsBuffer: ArrayBufferLike;
  /** Momentum's float64 velocity per parameter (per session; kept when the I/O buffers grow). */
  private readonly optimizer: { sgd: SgdMomentum; velocity: ArrayBufferLike } | undefined;
  private io!: IoBuffers;
  private runner!: Runner;
  private readonly engine: Engine<Float32Array>;
  private workers: PlatformWorker[] = [];
  private version = 0;
  private disposed = false;
  /** Calls are serialised: each waits for the previous one (they share the buffers). */
  private queue: Promise<unknown> = Promise.resolve();
  /** Calls queued or running on `queue`; 0 lets a call that needs no await run at once. */
  private pending = 0;

  private constructor(private readonly config: PlainSessionConfig) {
    this.plan = buildPlan(config.spec, CHUNK);
    this.threads = config.threads;
    this.shared = config.threads > 1;
    const mk = (bytes: number): ArrayBufferLike => (this.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes));
    this.control = mk(CONTROL_BYTES);
    this.paramsBuffer = mk(this.plan.paramCount * 4);
    new Float32Array(this.paramsBuffer).set(flattenWeights(config.spec, config.weights));
    this.optimizer = config.optimizer ? { sgd: config.optimizer, velocity: mk(this.plan.paramCount * 8) } : undefined;
    if (config.module) {
      const { kernels, mem } = instantiateWasm(config.module, this.plan.arena.size);
      this.engine = new Engine(this.plan, kernels, mem);
    } else {
      this.engine = new Engine(this.plan, jsKernels as Kernels<Float32Array>, new Float32Array(this.plan.arena.size));
    }
  }

  static async create(config: PlainSessionConfig): Promise<PlainSession> {
    const s = new PlainSession(config);
    await s.allocate(Math.max(1, config.maxBatchSize));
    return s;
  }

  /** Worker threads currently running (threads - 1 while alive, 0 after dispose). */
  get activeWorkers(): number {
    return this.workers.length;
  }

  /** The kernel tier actually running ("js", "wasm-simd" or "wasm-relaxed-simd"). */
  get kernelName(): string {
    return this.engine.kernels.name;
  }

  /** (Re)allocates the I/O buffers for `capacity` samples and (re)starts the workers. */
  private async allocate(capacity: number): Promise<void> {
    await this.stopWorkers();
    this.io = allocIo(this.plan, capacity, this.shared);
    this.runner = new Runner(this.engine, this.control, this.paramsBuffer, this.io, this.optimizer);
    if (this.threads > 1) {
      const p = platform();
      if (!p.startWorker) throw new Error(`${this.config.backendName}: ${p.noThreadsReason ?? 'threads > 1 is not supported here'}`);
      for (let t = 1; t < this.threads; t++) {
        const init: WorkerInit = {
          spec: this.config.spec,
          module: this.config.module,
          control: this.control as SharedArrayBuffer,
          params: this.paramsBuffer as SharedArrayBuffer,
          io: this.io,
          index: t,
          threads: this.threads,
          ...(this.optimizer ? { optimizer: { sgd: this.optimizer.sgd, velocity: this.optimizer.velocity as SharedArrayBuffer } } : {}),
        };
        this.workers.push(p.startWorker(init, this.config.backendName));
      }
      try {
        await Promise.all(this.workers.map((w) => w.ready));
      } catch (e) {
        await this.stopWorkers();
        throw e;
      }
    }
  }

  private async stopWorkers(): Promise<void> {
    if (this.workers.length === 0) return;
    const ctrl = new Int32Array(this.control, 0, 16);
    Atomics.store(ctrl, Ctl.Cmd, Cmd.Exit);
    Atomics.add(ctrl, Ctl.Gen, 1);
    Atomics.notify(ctrl, Ctl.Gen);
    const ws = this.workers;
    this.workers = [];
    await Promise.all(ws.map((w) => w.terminate()));
  }

  private async ensureCapacity(n: number): Promise<void> {
    if (n > this.io.capacity) await this.allocate(Math.max(n, 2 * this.io.capacity));
  }

  /** Runs `cmd` over all threads (or on the main thread alone when the batch is one chunk). */
  private run(cmd: Cmd, n: number): void {
    const runner = this.runner;
    const ctrl = runner.ctrl;
    Atomics.store(ctrl, Ctl.Next, 0);
    if (this.workers.length === 0 || (cmd !== Cmd.Update && microChunkCount(n, CHUNK) === 1)) {
      runner.exec(cmd, n);
      return;
    }
    const W = this.workers.length;
    Atomics.store(ctrl, Ctl.Cmd, cmd);
    Atomics.store(ctrl, Ctl.N, n);
    Atomics.store(ctrl, Ctl.Done, 0);
    Atomics.add(ctrl, Ctl.Gen, 1);
    Atomics.notify(ctrl, Ctl.Gen);
    let failure: unknown;
    try {
      runner.exec(cmd, n);
    } catch (e) {
      failure = e;
    }
    // Join: always wait for the workers, even if share 0 failed, so no thread still writes
    // into the buffers when we return.
    for (;;) {
      const d = Atomics.load(ctrl, Ctl.Done);
      if (d >= W) break;
      Atomics.wait(ctrl, Ctl.Done, d);
    }
    if (failure !== undefined) throw failure;
    if (Atomics.load(ctrl, Ctl.Error) !== 0) {
      const len = Atomics.load(ctrl, Ctl.ErrorLen);
      const text = new TextDecoder().decode(new Uint8Array(this.control, ERROR_TEXT_OFFSET, len).slice());
      Atomics.store(ctrl, Ctl.Error, 0);
      throw new Error(`${this.config.backendName}: ${text}`);
    }
  }

  private serial<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const next = this.queue.then(() => {
      if (this.disposed) throw new Error(`${this.config.backendName}: ${what} called after dispose()`);
      return fn();
    }).finally(() => {
      this.pending--;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs a call at once when nothing is queued and it fits the buffers (no await needed): the
   * work is synchronous, so nothing can interleave with it, and batch-1 latency does not pay the
   * promise-queue hops (a few microseconds of a ~50 us forward). Otherwise queues it.
   */
  private call<T>(what: string, n: number, check: () => void, work: () => T): Promise<T> {
    if (this.pending === 0 && !this.disposed && n <= this.io.capacity) {
      try {
        check();
        return Promise.resolve(work());
      } catch (e) {
        return Promise.reject(e);
      }
    }
    return this.serial(what, async () => {
      check();
      await this.ensureCapacity(n);
      return work();
    });
  }

  predict(x: Float32Array, n: number): Promise<Float32Array> {
    return this.call('predict', n, () => checkPredictInput(this.config.spec, x, n), () => {
      const { runner, plan } = this;
      runner.x.set(x.subarray(0, n * plan.inputSize));
      this.run(Cmd.Predict, n);
      return runner.logits.slice(0, n * plan.classes);
    });
  }

  trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    return this.call('trainStep', n, () => checkTrainInput(this.config.spec, x, y, n, lr), () => {
      const { runner, plan } = this;
      runner.x.set(x.subarray(0, n * plan.inputSize));
      runner.y.set(y.subarray(0, n));
      this.run(Cmd.Train, n);
      // Mean loss, summed in sample order (deterministic).
      let loss = 0;
      const losses = runner.losses;
      for (let i = 0; i < n; i++) loss += losses[i];
      loss /= n;
      // With an optimizer, lr 0 still moves the velocity (as the reference and torch do).
      if (lr !== 0 || this.optimizer) {
        runner.lr[0] = lr;
        this.run(Cmd.Update, n);
        Atomics.store(runner.ctrl, Ctl.ParamsVersion, ++this.version);
      }
      return loss;
    });
  }

  getWeights(): Promise<Weights> {
    return this.serial('getWeights', async () => unflattenWeights(this.config.spec, new Float32Array(this.paramsBuffer)));
  }

  /** Terminates the workers (after any call in flight). Idempotent. */
  dispose(): Promise<void> {
    this.pending++; // calls made after this one queue behind it (and are rejected)
    const done = this.queue.then(async () => {
      if (this.disposed) return;
      this.disposed = true;
      await this.stopWorkers();
    }).finally(() => {
      this.pending--;
    });
    this.queue = done.catch(() => undefined);
    return done;
  }
}
