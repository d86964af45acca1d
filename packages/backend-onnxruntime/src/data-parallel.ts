/**
 * ort-node training on T threads as data parallelism: the batch is cut into T contiguous chunks;
 * the main thread and T-1 worker threads (train-worker.ts) each run the gradients-only training
 * graph on one chunk in their own onnxruntime-node session with ONE intra-op thread, at the same
 * time; the chunk gradients are then combined and the SGD update applied here.
 *
 * Why: LeNet's tensors are small, so ORT's intra-op parallelism splits each op's work into
 * pieces too short to scale (measured on 2 vCPUs: 1 thread ~5,500 img/s, 2 intra-op threads
 * ~8,300 lenet5 / ~6,900 lenet5-modern); two whole chunks in parallel keep both cores busy
 * (docs/perf/ort-training-profile.md has the A/B).
 *
 * Arithmetic: chunk c (m_c samples) gives its mean loss and mean-loss gradients; the batch's are
 *   loss = sum_c (m_c/n) loss_c,  g = sum_c (m_c/n) g_c   (float64, chunk order),
 * and param' = fround(param - lr * g). The chunking depends only on n and T, so a session's
 * results are deterministic for a given thread count.
 *
 * Node only. node:worker_threads is imported dynamically so this module stays bundleable.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import type { OrtModule } from './session.js';
import { Cmd, Ctl, CONTROL_INTS, sharedLayout } from './train-worker-types.js';
import type { TrainWorkerInit, TrainWorkerMessage, TrainWorkerParam } from './train-worker-types.js';

type NodeWorker = import('node:worker_threads').Worker;

/** Atomics.waitAsync (Node 16+; the ES2024 lib this package does not target yet). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

/** How long the trainer polls for a worker's chunk before it waits without burning CPU. */
const JOIN_SPIN_MS = 5;

/** One worker thread and its shared buffer; commands are signalled with Atomics. */
class TrainWorker {
  private failure: Error | null = null;
  /** Text of the last error the worker posted (it posts before flagging Error). */
  private lastError = '';
  /** Rejects when the worker dies (error or exit), so no wait on it hangs. */
  private readonly died: Promise<never>;
  private gen = 0;

  constructor(
    private readonly worker: NodeWorker,
    private readonly label: string,
    public shared: SharedArrayBuffer,
    public capacity: number,
  ) {
    this.died = new Promise<never>((_, reject) => {
      worker.on('message', (m: TrainWorkerMessage) => {
        if (m.type === 'error') this.lastError = m.message;
      });
      worker.on('error', (e) => {
        this.failure ??= new Error(`${label}: ${e.message}`, { cause: e });
        reject(this.failure);
      });
      worker.on('exit', (code) => {
        this.failure ??= new Error(`${label}: exited (code ${code})`);
        reject(this.failure);
      });
    });
    this.died.catch(() => undefined);
  }

  get ctrl(): Int32Array {
    return new Int32Array(this.shared, 0, CONTROL_INTS);
  }

  /** Starts command `cmd` (the shared buffer already holds its data). */
  start(cmd: number, n = 0): void {
    if (this.failure) throw this.failure;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, Ctl.Cmd, cmd);
    Atomics.store(ctrl, Ctl.N, n);
    Atomics.store(ctrl, Ctl.Gen, ++this.gen);
    Atomics.notify(ctrl, Ctl.Gen);
  }

  /** Resolves when the started command is done; rejects if it failed or the worker died. */
  async finish(): Promise<void> {
    const ctrl = this.ctrl;
    // Referenced only while a command is out: its completion must keep the process alive.
    this.worker.ref();
    try {
      // Poll first (the worker is usually about as far as this thread), then sleep: a woken
      // sleeper on a VM can take a millisecond to run again.
      const until = performance.now() + JOIN_SPIN_MS;
      while (Atomics.load(ctrl, Ctl.Done) !== this.gen && performance.now() < until);
      while (Atomics.load(ctrl, Ctl.Done) !== this.gen) {
        const w = waitAsync(ctrl, Ctl.Done, Atomics.load(ctrl, Ctl.Done));
        if (w.async) await Promise.race([w.value, this.died]);
      }
    } finally {
      this.worker.unref();
    }
    if (Atomics.load(ctrl, Ctl.Error) !== 0) {
      // The error text was posted before the flag; let that message arrive.
      await new Promise((r) => setImmediate(r));
      throw new Error(`${this.label}: ${this.lastError || 'failed'}`);
    }
  }

  /** Moves the worker to a bigger shared buffer. */
  async resize(shared: SharedArrayBuffer, capacity: number): Promise<void> {
    this.worker.postMessage({ shared, capacity });
    this.start(Cmd.Resize);
    await this.finish();
    this.shared = shared;
    this.capacity = capacity;
  }

  async terminate(): Promise<void> {
    if (!this.failure) {
      this.failure = new Error(`${this.label}: terminated`);
      const ctrl = this.ctrl;
      Atomics.store(ctrl, Ctl.Cmd, Cmd.Exit);
      Atomics.store(ctrl, Ctl.Gen, ++this.gen);
      Atomics.notify(ctrl, Ctl.Gen);
    }
    await this.worker.terminate();
  }
}

/** The worker script: next to this module in dist/, or dist/ when running from src/ (tests). */
async function workerUrl(): Promise<URL> {
  const fs = 'node:fs';
  const { existsSync } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fs)) as typeof import('node:fs');
  const here = new URL('./train-worker.js', import.meta.url);
  if (existsSync(here)) return here;
  const built = new URL('../dist/train-worker.js', import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`train-worker.js not found next to ${import.meta.url} (build the package first)`);
}

export interface DataParallelConfig {
  backendName: string;
  ort: OrtModule;
  /** The gradients-only training graph (buildTrainingGraph with gradientsOnly). */
  graph: Uint8Array;
  /** Session options of every chunk session; intraOpNumThreads is forced to 1. */
  sessionOptions: InferenceSession.SessionOptions;
  threads: number;
  inputName: string;
  labelsName: string;
  lossName: string;
  inputShape: [number, number, number];
  params: TrainWorkerParam[];
}

export class DataParallelTrainer {
  private readonly lossBuf = new Float32Array(1);
  private readonly mainGrads: Float32Array[];
  private readonly size: number;
  private readonly paramCount: number;

  private constructor(
    private readonly config: DataParallelConfig,
    private readonly session: InferenceSession,
    private readonly workers: TrainWorker[],
  ) {
    this.mainGrads = config.params.map((p) => new Float32Array(p.size));
    const [c, h, w] = config.inputShape;
    this.size = c * h * w;
    this.paramCount = config.params.reduce((a, p) => a + p.size, 0);
  }

  static async create(config: DataParallelConfig): Promise<DataParallelTrainer> {
    const sessionOptions = { ...config.sessionOptions, intraOpNumThreads: 1 };
    const session = await config.ort.InferenceSession.create(config.graph, sessionOptions);
    const wt = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ wt)) as typeof import('node:worker_threads');
    const url = await workerUrl();
    const [c, h, w] = config.inputShape;
    const paramCount = config.params.reduce((a, p) => a + p.size, 0);
    const capacity = INITIAL_CAPACITY;
    const started: { worker: NodeWorker; shared: SharedArrayBuffer; ready: Promise<void>; detach(): void }[] = [];
    for (let t = 1; t < config.threads; t++) {
      const shared = new SharedArrayBuffer(sharedLayout(paramCount, c * h * w, capacity).bytes);
      const init: TrainWorkerInit = {
        graph: config.graph,
        sessionOptions,
        inputName: config.inputName,
        labelsName: config.labelsName,
        lossName: config.lossName,
        inputShape: config.inputShape,
        params: config.params,
        shared,
        capacity,
      };
      const worker = new Worker(url, { workerData: init });
      worker.unref(); // an idle worker never keeps the process alive
      const label = `${config.backendName}: training worker ${t}`;
      let detach = () => {};
      const ready = new Promise<void>((resolve, reject) => {
        const onMessage = (m: TrainWorkerMessage) => (m.type === 'ready' ? resolve() : reject(new Error(`${label}: ${m.message}`)));
        const onError = (e: Error) => reject(new Error(`${label} failed to start: ${e.message}`, { cause: e }));
        const onExit = (code: number) => reject(new Error(`${label} exited during start-up (code ${code})`));
        worker.once('message', onMessage).once('error', onError).once('exit', onExit);
        // Only our own listeners: removeAllListeners() would also drop the Worker's internal
        // ones that keep its message port delivering.
        detach = () => worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      });
      started.push({ worker, shared, ready, detach: () => detach() });
    }
    try {
      await Promise.all(started.map((s) => s.ready));
    } catch (e) {
      await Promise.all(started.map((s) => s.worker.terminate()));
      await session.release();
      throw e;
    }
    const workers = started.map((s, i) => {
      s.detach();
      return new TrainWorker(s.worker, `${config.backendName}: training worker ${i + 1}`, s.shared, capacity);
    });
    return new DataParallelTrainer(config, session, workers);
  }

  /** Chunk sizes for a batch of n: min(threads, n) contiguous chunks, the first ones one larger. */
  chunks(n: number): number[] {
    const T = Math.min(this.workers.length + 1, n);
    const base = Math.floor(n / T);
    return Array.from({ length: T }, (_, c) => base + (c < n % T ? 1 : 0));
  }

  /**
   * One SGD step: writes param - lr * grad into `next` (same shapes as `params`) and returns the
   * batch's mean loss. `x`/`y` hold at least n samples.
   */
  async step(x: Float32Array, y: Int32Array, n: number, lr: number, params: Float32Array[], next: Float32Array[]): Promise<number> {
    const { config, size, paramCount } = this;
    const sizes = this.chunks(n);
    // Chunks 1.. go to the workers through their shared buffers; chunk 0 runs here meanwhile.
    let start = sizes[0]!;
    for (let k = 1; k < sizes.length; k++) {
      const m = sizes[k]!;
      const wk = this.workers[k - 1]!;
      if (m > wk.capacity) {
        const capacity = Math.max(m, 2 * wk.capacity);
        await wk.resize(new SharedArrayBuffer(sharedLayout(paramCount, size, capacity).bytes), capacity);
      }
      const L = sharedLayout(paramCount, size, wk.capacity);
      const f32 = new Float32Array(wk.shared);
      let off = L.params;
      for (const p of params) {
        f32.set(p, off);
        off += p.length;
      }
      f32.set(x.subarray(start * size, (start + m) * size), L.x);
      new Int32Array(wk.shared).set(y.subarray(start, start + m), L.y);
      wk.start(Cmd.Step, m);
      start += m;
    }
    const { Tensor } = config.ort;
    const m0 = sizes[0]!;
    const feeds: Record<string, OrtTensor> = {
      [config.inputName]: new Tensor('float32', x.subarray(0, m0 * size), [m0, ...config.inputShape]),
      [config.labelsName]: new Tensor('int32', y.subarray(0, m0), [m0]),
    };
    config.params.forEach((p, i) => (feeds[p.name] = new Tensor('float32', params[i]!, p.shape)));
    const fetches: Record<string, OrtTensor> = { [config.lossName]: new Tensor('float32', this.lossBuf, []) };
    config.params.forEach((p, i) => (fetches[p.gradName] = new Tensor('float32', this.mainGrads[i]!, p.shape)));
    let localError: unknown;
    try {
      await this.session.run(feeds, fetches);
    } catch (e) {
      localError = e;
    }
    // Always join every started worker (even if the local chunk failed): none may still be
    // writing into its buffer when this returns.
    const joined = await Promise.allSettled(this.workers.slice(0, sizes.length - 1).map((wk) => wk.finish()));
    if (localError !== undefined) throw localError;
    for (const r of joined) if (r.status === 'rejected') throw r.reason;

    // Combine in chunk order, in float64; one rounding to float32 per parameter.
    const weights = sizes.map((m) => m / n);
    const losses = [this.lossBuf[0]!];
    const grads: Float32Array[] = [];
    for (let k = 1; k < sizes.length; k++) {
      const wk = this.workers[k - 1]!;
      const L = sharedLayout(paramCount, size, wk.capacity);
      const f32 = new Float32Array(wk.shared);
      losses.push(f32[L.loss]!);
      grads.push(f32.subarray(L.grads, L.grads + paramCount));
    }
    let loss = 0;
    for (let k = 0; k < losses.length; k++) loss += weights[k]! * losses[k]!;
    let off = 0;
    for (let i = 0; i < params.length; i++) {
      const len = params[i]!.length;
      sgdUpdate(params[i]!, this.mainGrads[i]!, grads, off, weights, lr, next[i]!);
      off += len;
    }
    return loss;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.session.release();
  }
}

/** Samples per worker chunk the shared buffers hold at first (they grow on demand). */
const INITIAL_CAPACITY = 128;

/**
 * out[j] = p[j] - lr * (w0 * g0[j] + sum_k w_k * rest[k-1][off + j]), summed in chunk order in
 * float64. A function of its own so V8 optimises this hot loop on its own terms.
 */
function sgdUpdate(p: Float32Array, g0: Float32Array, rest: Float32Array[], off: number, weights: number[], lr: number, out: Float32Array): void {
  const w0 = weights[0]!;
  const len = p.length;
  if (rest.length === 1) {
    const g1 = rest[0]!;
    const w1 = weights[1]!;
    for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (w0 * g0[j]! + w1 * g1[off + j]!);
    return;
  }
  for (let j = 0; j < len; j++) {
    let g = w0 * g0[j]!;
    for (let k = 0; k < rest.length; k++) g += weights[k + 1]! * rest[k]![off + j]!;
    out[j] = p[j]! - lr * g;
  }
}
