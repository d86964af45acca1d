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
import type { TrainWorkerInit, TrainWorkerMessage, TrainWorkerParam, TrainWorkerRuntime } from './train-worker-types.js';

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

  /**
   * Resolves when the started command is done; rejects if it failed or the worker died. With
   * `spin`, polls for up to JOIN_SPIN_MS first (when this thread computed a chunk too, the worker
   * is usually about as far; a sleeper woken on a VM can take a millisecond to run again).
   */
  async finish(spin = false): Promise<void> {
    const ctrl = this.ctrl;
    // Referenced only while a command is out: its completion must keep the process alive.
    this.worker.ref();
    try {
      const until = spin ? performance.now() + JOIN_SPIN_MS : 0;
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

const WORKER_FILE = './train-worker.js';
const BUILT_WORKER_FILE = '../dist/train-worker.js';

/** The worker script: next to this module in dist/, or dist/ when running from src/ (tests). */
async function workerUrl(): Promise<URL> {
  const fs = 'node:fs';
  const { existsSync } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fs)) as typeof import('node:fs');
  // Specifiers in variables: bundlers treat new URL('<literal>', import.meta.url) as an asset to
  // copy, and this Node-only worker has no place in a browser bundle.
  const here = new URL(WORKER_FILE, import.meta.url);
  if (existsSync(here)) return here;
  const built = new URL(BUILT_WORKER_FILE, import.meta.url);
  if (existsSync(built)) return built;
  throw new Error(`train-worker.js not found next to ${import.meta.url} (build the package first)`);
}

export interface DataParallelConfig {
  backendName: string;
  ort: OrtModule;
  /** What the workers load (the main thread's `ort` is the same runtime). */
  runtime: TrainWorkerRuntime;
  /**
   * Whether the main thread trains a chunk itself (ort-node: a second 1-thread session) or only
   * coordinates threads workers (ort-web: the main thread's wasm instance has its own,
   * process-wide thread count, used for inference).
   */
  mainRunsChunk: boolean;
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
  /** The main thread's chunk gradients, all parameters in one array (canonical order). */
  private readonly mainGrads: Float32Array;
  private readonly size: number;
  private readonly paramCount: number;

  private constructor(
    private readonly config: DataParallelConfig,
    /** The main thread's 1-thread session, or null when it only coordinates. */
    private readonly session: InferenceSession | null,
    private readonly workers: TrainWorker[],
  ) {
    const [c, h, w] = config.inputShape;
    this.size = c * h * w;
    this.paramCount = config.params.reduce((a, p) => a + p.size, 0);
    this.mainGrads = new Float32Array(this.paramCount);
  }

  static async create(config: DataParallelConfig): Promise<DataParallelTrainer> {
    const sessionOptions = { ...config.sessionOptions, intraOpNumThreads: 1 };
    const session = config.mainRunsChunk ? await config.ort.InferenceSession.create(config.graph, sessionOptions) : null;
    const wt = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ wt)) as typeof import('node:worker_threads');
    const url = await workerUrl();
    const [c, h, w] = config.inputShape;
    const paramCount = config.params.reduce((a, p) => a + p.size, 0);
    const capacity = INITIAL_CAPACITY;
    const started: { worker: NodeWorker; shared: SharedArrayBuffer; ready: Promise<void>; detach(): void }[] = [];
    const workerCount = config.mainRunsChunk ? config.threads - 1 : config.threads;
    for (let t = 1; t <= workerCount; t++) {
      const shared = new SharedArrayBuffer(sharedLayout(paramCount, c * h * w, capacity).bytes);
      const init: TrainWorkerInit = {
        runtime: config.runtime,
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
      await session?.release();
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
    const T = Math.min(this.workers.length + (this.session ? 1 : 0), n);
    const base = Math.floor(n / T);
    return Array.from({ length: T }, (_, c) => base + (c < n % T ? 1 : 0));
  }

  /**
   * One SGD step: writes param - lr * grad into `next` (same shapes as `params`) and returns the
   * batch's mean loss. `x`/`y` hold at least n samples.
   */
  async step(x: Float32Array, y: Int32Array, n: number, lr: number, params: Float32Array[], next: Float32Array[]): Promise<number> {
    const { config, size, paramCount, session } = this;
    const sizes = this.chunks(n);
    // Chunk 0 runs here when this thread trains too; the others go to the workers through
    // their shared buffers, in order.
    const first = session ? 1 : 0;
    const used = this.workers.slice(0, sizes.length - first);
    let start = first ? sizes[0]! : 0;
    for (let k = first; k < sizes.length; k++) {
      const m = sizes[k]!;
      const wk = used[k - first]!;
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
    let localError: unknown;
    if (session) {
      const { Tensor } = config.ort;
      const m0 = sizes[0]!;
      const feeds: Record<string, OrtTensor> = {
        [config.inputName]: new Tensor('float32', x.subarray(0, m0 * size), [m0, ...config.inputShape]),
        [config.labelsName]: new Tensor('int32', y.subarray(0, m0), [m0]),
      };
      config.params.forEach((p, i) => (feeds[p.name] = new Tensor('float32', params[i]!, p.shape)));
      const fetches: Record<string, OrtTensor> = { [config.lossName]: new Tensor('float32', this.lossBuf, []) };
      let off = 0;
      for (const p of config.params) {
        fetches[p.gradName] = new Tensor('float32', this.mainGrads.subarray(off, off + p.size), p.shape);
        off += p.size;
      }
      try {
        await session.run(feeds, fetches);
      } catch (e) {
        localError = e;
      }
    }
    // Always join every started worker (even if the local chunk failed): none may still be
    // writing into its buffer when this returns.
    // Poll only when this thread computed a chunk: a coordinator polling would take a core from
    // the workers.
    const joined = await Promise.allSettled(used.map((wk) => wk.finish(session !== null)));
    if (localError !== undefined) throw localError;
    for (const r of joined) if (r.status === 'rejected') throw r.reason;

    // Combine in chunk order, in float64; one rounding to float32 per parameter.
    const weights = sizes.map((m) => m / n);
    const losses: number[] = session ? [this.lossBuf[0]!] : [];
    const grads: Float32Array[] = session ? [this.mainGrads] : [];
    for (const wk of used) {
      const L = sharedLayout(paramCount, size, wk.capacity);
      const f32 = new Float32Array(wk.shared);
      losses.push(f32[L.loss]!);
      grads.push(f32.subarray(L.grads, L.grads + paramCount));
    }
    let loss = 0;
    for (let k = 0; k < losses.length; k++) loss += weights[k]! * losses[k]!;
    let off = 0;
    for (let i = 0; i < params.length; i++) {
      sgdUpdate(params[i]!, grads, off, weights, lr, next[i]!);
      off += params[i]!.length;
    }
    return loss;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    await this.session?.release();
  }
}

/** Samples per worker chunk the shared buffers hold at first (they grow on demand). */
const INITIAL_CAPACITY = 128;

/**
 * out[j] = p[j] - lr * sum_k w_k * g_k[off + j], summed over the chunks k in order in float64.
 * A function of its own so V8 optimises this hot loop on its own terms.
 */
function sgdUpdate(p: Float32Array, g: Float32Array[], off: number, w: number[], lr: number, out: Float32Array): void {
  const len = p.length;
  if (g.length === 2) {
    const g0 = g[0]!, g1 = g[1]!, w0 = w[0]!, w1 = w[1]!;
    for (let j = 0; j < len; j++) out[j] = p[j]! - lr * (w0 * g0[off + j]! + w1 * g1[off + j]!);
    return;
  }
  for (let j = 0; j < len; j++) {
    let s = 0;
    for (let k = 0; k < g.length; k++) s += w[k]! * g[k]![off + j]!;
    out[j] = p[j]! - lr * s;
  }
}
