/**
 * Data-parallel training steps over worker threads (Node), shared by the backends whose runtime
 * spreads LeNet's small ops over threads poorly (ORT, TF.js wasm): the batch is cut into
 * contiguous chunks, each chunk's mean loss and mean-loss gradients are computed by a 1-thread
 * runtime instance on its own thread at the same time, and the SGD update is applied on the
 * main thread from their weighted sum.
 *
 * Main side: ChunkWorkerPool starts the workers (a backend's script that calls
 * serveChunkWorker with its runtime's gradient function) and exchanges each step's data
 * through one SharedArrayBuffer per worker, signalled with Atomics (no postMessage, no
 * structured clone, no garbage per step):
 *
 *   Int32 control[CONTROL_INTS] | float32 params[paramCount] | float32 grads[paramCount]
 *   | float32 loss | float32 x[capacity * inputSize] | int32 y[capacity]
 *
 * The worker copies its chunk and the parameters into private arrays (runtimes such as
 * onnxruntime reject shared memory) and its gradients back.
 *
 * Arithmetic (sgdFromChunks): loss = Σ_c (m_c/n) loss_c, g = Σ_c (m_c/n) g_c, summed in chunk
 * order in float64, param' = fround(param − lr·g). chunkSizes depends only on n and the thread
 * count, so results are deterministic for a given thread count.
 *
 * Node only; node:worker_threads and node:fs are imported dynamically so that this module can
 * sit in a browser bundle unused.
 */

/** Int32 slots of a worker's control block. */
const Ctl = { Gen: 0, Done: 1, Cmd: 2, N: 3, Error: 4 } as const;
const CONTROL_INTS = 8;
const Cmd = { Step: 1, Resize: 2, Exit: 3 } as const;
/** Samples a worker's buffer holds at first (it grows on demand). */
const INITIAL_CAPACITY = 128;
/** How long the main thread polls for a worker it computed alongside, before it sleeps. */
const JOIN_SPIN_MS = 5;
/** How long an idle worker polls for its next command before it sleeps. */
const WORKER_SPIN_MS = 2;

/** Float32 offsets of a worker buffer's regions. */
function layout(paramCount: number, inputSize: number, capacity: number) {
  const params = CONTROL_INTS;
  const grads = params + paramCount;
  const loss = grads + paramCount;
  const x = loss + 1;
  const y = x + capacity * inputSize;
  return { params, grads, loss, x, y, bytes: (y + capacity) * 4 };
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 lib this package targets). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (a: Int32Array, index: number, value: number): WaitAsyncResult =>
  (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): WaitAsyncResult }).waitAsync(a, index, value);

type NodeWorker = import('node:worker_threads').Worker;

/** What a chunk worker receives as workerData. */
export interface ChunkWorkerInit<T = unknown> {
  /** The backend's own start-up data (model, runtime options, ...). */
  data: T;
  inputSize: number;
  paramCount: number;
  shared: SharedArrayBuffer;
  capacity: number;
}

/** A worker's posted messages: ready after start-up, or the text of a failure. */
type WorkerMessage = { type: 'ready' } | { type: 'error'; message: string };

/**
 * A backend's worker script: `file` next to the calling module (`base` = its import.meta.url),
 * else `fallback` relative to it (dist/ when the caller runs from src/, as in tests). Callers pass
 * the names in variables: bundlers treat new URL('<literal>', import.meta.url) as an asset to
 * copy (and a template literal as a whole folder), and these Node-only workers have no place in
 * a browser bundle.
 */
export async function findWorkerScript(base: string, file: string, fallback: string): Promise<URL> {
  const fs = 'node:fs';
  const { existsSync } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fs)) as typeof import('node:fs');
  const here = new URL(file, base);
  return existsSync(here) ? here : new URL(fallback, base);
}

/** Contiguous chunk sizes for a batch of n on `threads` threads: min(threads, n) chunks, the first ones one larger. */
export function chunkSizes(n: number, threads: number): number[] {
  const T = Math.max(1, Math.min(threads, n));
  const base = Math.floor(n / T);
  return Array.from({ length: T }, (_, c) => base + (c < n % T ? 1 : 0));
}

/**
 * The SGD step from chunk results: next[i][j] = fround(params[i][j] − lr·Σ_k w_k·grads[k][off_i + j])
 * with w_k = sizes[k]/n, summed in chunk order in float64 (`grads[k]` holds all parameters of
 * chunk k, in the order of `params`). Returns Σ_k w_k·losses[k].
 */
export function sgdFromChunks(params: readonly Float32Array[], sizes: number[], losses: number[], grads: Float32Array[], lr: number, next: Float32Array[]): number {
  const n = sizes.reduce((a, b) => a + b, 0);
  const w = sizes.map((m) => m / n);
  let loss = 0;
  for (let k = 0; k < losses.length; k++) loss += w[k]! * losses[k]!;
  let off = 0;
  for (let i = 0; i < params.length; i++) {
    sgdUpdate(params[i]!, grads, off, w, lr, next[i]!);
    off += params[i]!.length;
  }
  return loss;
}

/** A function of its own so V8 optimises this hot loop on its own terms. */
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

/** One worker thread and its shared buffer. */
class ChunkWorker {
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
      worker.on('message', (m: WorkerMessage) => {
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

  start(cmd: number, n = 0): void {
    if (this.failure) throw this.failure;
    const ctrl = this.ctrl;
    Atomics.store(ctrl, Ctl.Cmd, cmd);
    Atomics.store(ctrl, Ctl.N, n);
    Atomics.store(ctrl, Ctl.Gen, ++this.gen);
    Atomics.notify(ctrl, Ctl.Gen);
  }

  /** Resolves when the started command is done; rejects if it failed or the worker died. */
  async finish(spin: boolean): Promise<void> {
    const ctrl = this.ctrl;
    // Referenced only while a command is out: its completion must keep the process alive.
    this.worker.ref();
    try {
      // A sleeper woken on a VM can take a millisecond to run again: poll first when this
      // thread worked alongside (the worker is then usually about as far).
      const until = spin ? performance.now() + JOIN_SPIN_MS : 0;
      while (Atomics.load(ctrl, Ctl.Done) !== this.gen && performance.now() < until);
      for (;;) {
        // Wait on the value just compared: re-reading it for the wait would miss a Done stored
        // in between (the wait would then expect the final value and never be woken).
        const done = Atomics.load(ctrl, Ctl.Done);
        if (done === this.gen) break;
        const w = waitAsync(ctrl, Ctl.Done, done);
        if (w.async) await Promise.race([w.value, this.died]);
      }
    } finally {
      this.worker.unref();
    }
    if (Atomics.load(ctrl, Ctl.Error) !== 0) {
      // The error text was posted before the flag: let that message arrive.
      await new Promise((r) => setImmediate(r));
      throw new Error(`${this.label}: ${this.lastError || 'failed'}`);
    }
  }

  async resize(shared: SharedArrayBuffer, capacity: number): Promise<void> {
    // The worker goes on counting in the new buffer from the Resize command's generation: start
    // it there, or the worker would see a fresh 0 as a new command.
    const next = new Int32Array(shared, 0, CONTROL_INTS);
    Atomics.store(next, Ctl.Gen, this.gen + 1);
    Atomics.store(next, Ctl.Done, this.gen + 1);
    this.worker.postMessage({ shared, capacity });
    this.start(Cmd.Resize);
    await this.finish(false);
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

export interface ChunkWorkerPoolOptions<T> {
  /** Names the workers in errors, e.g. the backend name. */
  label: string;
  /** The worker script (it calls serveChunkWorker). */
  script: URL;
  /** The backend's own start-up data, passed as ChunkWorkerInit.data. */
  data: T;
  workers: number;
  /** Floats per sample. */
  inputSize: number;
  /** Floats of all parameters together. */
  paramCount: number;
}

/** Main-thread side: a fixed set of chunk workers. */
export class ChunkWorkerPool {
  private constructor(
    private readonly workers: ChunkWorker[],
    private readonly inputSize: number,
    private readonly paramCount: number,
  ) {}

  static async create<T>(options: ChunkWorkerPoolOptions<T>): Promise<ChunkWorkerPool> {
    const wt = 'node:worker_threads';
    const { Worker } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ wt)) as typeof import('node:worker_threads');
    const fs = 'node:fs';
    const { existsSync } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ fs)) as typeof import('node:fs');
    if (!existsSync(options.script)) throw new Error(`${options.label}: worker script ${options.script.href} not found (is the package built?)`);
    const capacity = INITIAL_CAPACITY;
    const started: { worker: NodeWorker; shared: SharedArrayBuffer; ready: Promise<void>; detach(): void }[] = [];
    for (let t = 1; t <= options.workers; t++) {
      const shared = new SharedArrayBuffer(layout(options.paramCount, options.inputSize, capacity).bytes);
      const init: ChunkWorkerInit<T> = { data: options.data, inputSize: options.inputSize, paramCount: options.paramCount, shared, capacity };
      const worker = new Worker(options.script, { workerData: init });
      worker.unref(); // an idle worker never keeps the process alive
      const label = `${options.label}: training worker ${t}`;
      let detach = () => {};
      const ready = new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => (m.type === 'ready' ? resolve() : reject(new Error(`${label}: ${m.message}`)));
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
      throw e;
    }
    const workers = started.map((s, i) => {
      s.detach();
      return new ChunkWorker(s.worker, `${options.label}: training worker ${i + 1}`, s.shared, capacity);
    });
    return new ChunkWorkerPool(workers, options.inputSize, options.paramCount);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Starts worker w on samples [start, start + m) of x/y with the given parameters (in order,
   * paramCount floats together). The worker's buffer grows first if m exceeds it.
   */
  async start(w: number, x: Float32Array, y: Int32Array, start: number, m: number, params: readonly Float32Array[]): Promise<void> {
    const wk = this.workers[w]!;
    const { inputSize, paramCount } = this;
    if (m > wk.capacity) {
      const capacity = Math.max(m, 2 * wk.capacity);
      await wk.resize(new SharedArrayBuffer(layout(paramCount, inputSize, capacity).bytes), capacity);
    }
    const L = layout(paramCount, inputSize, wk.capacity);
    const f32 = new Float32Array(wk.shared);
    let off = L.params;
    for (const p of params) {
      f32.set(p, off);
      off += p.length;
    }
    f32.set(x.subarray(start * inputSize, (start + m) * inputSize), L.x);
    new Int32Array(wk.shared).set(y.subarray(start, start + m), L.y);
    wk.start(Cmd.Step, m);
  }

  /**
   * Waits for worker w's chunk; its loss and gradients (a view of the shared buffer, valid until
   * the worker's next start). `spin`: poll before sleeping (when this thread computed too).
   */
  async join(w: number, spin: boolean): Promise<{ loss: number; grads: Float32Array }> {
    const wk = this.workers[w]!;
    await wk.finish(spin);
    const L = layout(this.paramCount, this.inputSize, wk.capacity);
    const f32 = new Float32Array(wk.shared);
    return { loss: f32[L.loss]!, grads: f32.subarray(L.grads, L.grads + this.paramCount) };
  }

  /**
   * One data-parallel SGD step over min(threads, n) chunks: with `local`, this thread computes
   * chunk 0 (while the workers compute chunks 1..) and threads = workers + 1; without it, the
   * workers compute every chunk. Writes param − lr·g into `next` (sgdFromChunks) and returns
   * the batch's mean loss. Every started worker is joined even if another chunk failed, so
   * none still writes into its buffer when this returns.
   */
  async sgdStep(
    x: Float32Array, y: Int32Array, n: number, lr: number,
    params: readonly Float32Array[], next: Float32Array[],
    local: ((m: number) => Promise<{ loss: number; grads: Float32Array }>) | null,
  ): Promise<number> {
    const first = local ? 1 : 0;
    const sizes = chunkSizes(n, this.workers.length + first);
    let start = first ? sizes[0]! : 0;
    for (let k = first; k < sizes.length; k++) {
      await this.start(k - first, x, y, start, sizes[k]!, params);
      start += sizes[k]!;
    }
    let mine: { loss: number; grads: Float32Array } | undefined;
    let localError: unknown;
    if (local) {
      try {
        mine = await local(sizes[0]!);
      } catch (e) {
        localError = e;
      }
    }
    // Poll only when this thread computed too (a polling coordinator would take a core from the workers).
    const joined = await Promise.allSettled(sizes.slice(first).map((_, k) => this.join(k, first === 1)));
    if (localError !== undefined) throw localError;
    const losses: number[] = mine ? [mine.loss] : [];
    const grads: Float32Array[] = mine ? [mine.grads] : [];
    for (const r of joined) {
      if (r.status === 'rejected') throw r.reason;
      losses.push(r.value.loss);
      grads.push(r.value.grads);
    }
    return sgdFromChunks(params, sizes, losses, grads, lr, next);
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Worker-thread side: serves steps until told to exit. `compute` gets private copies of the
 * chunk and the parameters (all parameters in one array, in the pool's order) and returns the
 * chunk's mean loss and its gradients in the same order (paramCount floats).
 */
export async function serveChunkWorker(
  init: ChunkWorkerInit,
  compute: (x: Float32Array, y: Int32Array, n: number, params: Float32Array) => Promise<{ loss: number; grads: Float32Array }>,
): Promise<void> {
  const wt = 'node:worker_threads';
  const { parentPort, receiveMessageOnPort } = (await import(/* @vite-ignore */ /* webpackIgnore: true */ wt)) as typeof import('node:worker_threads');
  const port = parentPort!;
  const { inputSize, paramCount } = init;
  let shared = init.shared;
  let capacity = init.capacity;
  let x = new Float32Array(capacity * inputSize);
  let y = new Int32Array(capacity);
  const params = new Float32Array(paramCount);
  port.postMessage({ type: 'ready' } satisfies WorkerMessage);
  let seen = 0;
  for (;;) {
    const ctrl = new Int32Array(shared, 0, CONTROL_INTS);
    // Poll a little before sleeping: the next step usually comes within a millisecond.
    const until = performance.now() + WORKER_SPIN_MS;
    while (Atomics.load(ctrl, Ctl.Gen) === seen && performance.now() < until);
    Atomics.wait(ctrl, Ctl.Gen, seen);
    seen = Atomics.load(ctrl, Ctl.Gen);
    const cmd = Atomics.load(ctrl, Ctl.Cmd);
    if (cmd === Cmd.Exit) return;
    try {
      if (cmd === Cmd.Resize) {
        // The new buffer was posted before the command; the old one stays valid until Done.
        const msg = receiveMessageOnPort(port)?.message as { shared: SharedArrayBuffer; capacity: number } | undefined;
        if (!msg) throw new Error('resize without a buffer');
        shared = msg.shared;
        capacity = msg.capacity;
        x = new Float32Array(capacity * inputSize);
        y = new Int32Array(capacity);
      } else {
        const n = Atomics.load(ctrl, Ctl.N);
        const L = layout(paramCount, inputSize, capacity);
        const f32 = new Float32Array(shared);
        params.set(f32.subarray(L.params, L.params + paramCount));
        x.set(f32.subarray(L.x, L.x + n * inputSize));
        y.set(new Int32Array(shared).subarray(L.y, L.y + n));
        const r = await compute(n === capacity ? x : x.subarray(0, n * inputSize), n === capacity ? y : y.subarray(0, n), n, params);
        if (r.grads.length !== paramCount) throw new Error(`compute returned ${r.grads.length} gradients, expected ${paramCount}`);
        f32.set(r.grads, L.grads);
        f32[L.loss] = r.loss;
      }
      Atomics.store(ctrl, Ctl.Error, 0);
    } catch (e) {
      port.postMessage({ type: 'error', message: (e as Error).message } satisfies WorkerMessage);
      Atomics.store(ctrl, Ctl.Error, 1);
    }
    Atomics.store(ctrl, Ctl.Done, seen);
    Atomics.notify(ctrl, Ctl.Done);
  }
}
