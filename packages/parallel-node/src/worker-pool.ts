/**
 * Worker threads that compute micro-chunks (Node): the main side (MicroChunkPool) and the worker
 * side (serveMicroChunkWorker), exchanging each step's data through one SharedArrayBuffer per
 * worker, signalled with Atomics (no postMessage, no structured clone, no garbage per step):
 *
 *   Int32 control[CONTROL_INTS] | float64 losses[slots] | float32 params[paramCount]
 *   | float32 grads[slots × paramCount] | float32 x[capacity × inputSize] | int32 y[capacity]
 *
 * slots = ceil(capacity / microChunk). A worker is given a contiguous run of samples that starts
 * on a micro-chunk boundary; it computes each micro-chunk of it on its own and stores that
 * chunk's float64 loss and float32 gradients in their slot. It copies its samples and the
 * parameters into private arrays first (runtimes such as onnxruntime reject shared memory).
 */

/**
 * Node built-ins, imported by names in variables: a backend's browser bundle may contain this
 * module unused (behind a dynamic import), and bundlers must not try to resolve them.
 */
const FS = 'node:fs';
const WORKER_THREADS = 'node:worker_threads';
const nodeFs = (): Promise<typeof import('node:fs')> => import(/* @vite-ignore */ /* webpackIgnore: true */ FS);
const nodeWorkerThreads = (): Promise<typeof import('node:worker_threads')> => import(/* @vite-ignore */ /* webpackIgnore: true */ WORKER_THREADS);
type Worker = import('node:worker_threads').Worker;

/** Int32 slots of a worker's control block. */
const Ctl = { Gen: 0, Done: 1, Cmd: 2, N: 3, Error: 4 } as const;
/** 8 Int32 = 32 bytes, so the float64 losses that follow are 8-byte aligned. */
const CONTROL_INTS = 8;
const Cmd = { Step: 1, Resize: 2, Exit: 3 } as const;
/** Samples a worker's buffer holds at first (it grows on demand). */
const INITIAL_CAPACITY = 128;
/** How long the main thread polls for a worker it computed alongside, before it sleeps. */
const JOIN_SPIN_MS = 5;
/** How long an idle worker polls for its next command before it sleeps. */
const WORKER_SPIN_MS = 2;
/** How long a worker told to exit may take for its cleanup (serveMicroChunkWorker's `cleanup`) before it is killed anyway. */
const EXIT_GRACE_MS = 5_000;

/**
 * Tells a worker to exit (command generation `gen`), waits until it acknowledges (after its
 * cleanup, e.g. releasing a native session), dies, or EXIT_GRACE_MS pass, then terminates it.
 * Killing a worker that still holds an onnxruntime-node session aborts the whole process
 * ("terminate called after throwing an instance of 'Napi::Error'"), hence the handshake.
 */
async function stopWorker(worker: Worker, ctrl: Int32Array, gen: number, died: Promise<unknown>): Promise<void> {
  Atomics.store(ctrl, Ctl.Cmd, Cmd.Exit);
  Atomics.store(ctrl, Ctl.Gen, gen);
  Atomics.notify(ctrl, Ctl.Gen);
  const deadline = performance.now() + EXIT_GRACE_MS;
  worker.ref();
  try {
    for (;;) {
      const done = Atomics.load(ctrl, Ctl.Done);
      const left = deadline - performance.now();
      if (done === gen || left <= 0) break;
      const w = waitAsync(ctrl, Ctl.Done, done, left);
      if (!w.async) continue;
      if ((await Promise.race([w.value, died.then(() => 'died', () => 'died')])) === 'died') break;
    }
  } finally {
    worker.unref();
  }
  await worker.terminate();
}

/** Offsets of a worker buffer's regions: `losses` in float64s, the others in 4-byte units. */
function layout(paramCount: number, inputSize: number, capacity: number, microChunk: number) {
  const slots = Math.ceil(capacity / microChunk);
  const losses = CONTROL_INTS / 2;
  const params = CONTROL_INTS + 2 * slots;
  const grads = params + paramCount;
  const x = grads + slots * paramCount;
  const y = x + capacity * inputSize;
  return { slots, losses, params, grads, x, y, bytes: (y + capacity) * 4 };
}

/** Atomics.waitAsync (Node 16+; not in the ES2022 lib this package targets). */
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (a: Int32Array, index: number, value: number, timeoutMs = Infinity): WaitAsyncResult =>
  (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t: number): WaitAsyncResult }).waitAsync(a, index, value, timeoutMs);

/** What a micro-chunk worker receives as workerData. */
export interface MicroChunkWorkerInit<T = unknown> {
  /** The backend's own start-up data (model, runtime options, ...). */
  data: T;
  inputSize: number;
  paramCount: number;
  microChunk: number;
  shared: SharedArrayBuffer;
  capacity: number;
}

/** A worker's posted messages: ready after start-up, or the text of a failure. */
type WorkerMessage = { type: 'ready' } | { type: 'error'; message: string };

/** One micro-chunk's mean loss and mean-loss gradients (paramCount floats, the pool's order). */
export interface ChunkResult {
  loss: number;
  grads: Float32Array;
}

/**
 * A backend's worker script: `file` next to the calling module (`base` = its import.meta.url),
 * else `fallback` relative to it (dist/ when the caller runs from src/, as in tests). Callers pass
 * the names in variables: bundlers treat new URL('<literal>', import.meta.url) as an asset to
 * copy, and these Node-only workers have no place in a browser bundle.
 */
export async function findWorkerScript(base: string, file: string, fallback: string): Promise<URL> {
  const { existsSync } = await nodeFs();
  const here = new URL(file, base);
  return existsSync(here) ? here : new URL(fallback, base);
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
    private readonly worker: Worker,
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

  /** Stops the worker after its cleanup (see stopWorker); a dead worker is only reaped. */
  async terminate(): Promise<void> {
    if (this.failure) return void (await this.worker.terminate());
    this.failure = new Error(`${this.label}: terminated`);
    await stopWorker(this.worker, this.ctrl, ++this.gen, this.died);
  }
}

export interface MicroChunkPoolOptions<T> {
  /** Names the workers in errors, e.g. the backend name. */
  label: string;
  /** The worker script (it calls serveMicroChunkWorker). */
  script: URL;
  /** The backend's own start-up data, passed as MicroChunkWorkerInit.data. */
  data: T;
  workers: number;
  /** Floats per sample. */
  inputSize: number;
  /** Floats of all parameters together. */
  paramCount: number;
  /** Samples per micro-chunk. */
  microChunk: number;
}

/** Main-thread side: a fixed set of micro-chunk workers. */
export class MicroChunkPool {
  private constructor(
    private readonly workers: ChunkWorker[],
    private readonly inputSize: number,
    private readonly paramCount: number,
    readonly microChunk: number,
  ) {}

  static async create<T>(options: MicroChunkPoolOptions<T>): Promise<MicroChunkPool> {
    const { label, paramCount, inputSize, microChunk } = options;
    const [{ existsSync }, { Worker }] = await Promise.all([nodeFs(), nodeWorkerThreads()]);
    if (!existsSync(options.script)) throw new Error(`${label}: worker script ${options.script.href} not found (is the package built?)`);
    const capacity = INITIAL_CAPACITY;
    const started: { worker: Worker; shared: SharedArrayBuffer; ready: Promise<void>; detach(): void }[] = [];
    for (let t = 1; t <= options.workers; t++) {
      const shared = new SharedArrayBuffer(layout(paramCount, inputSize, capacity, microChunk).bytes);
      const init: MicroChunkWorkerInit<T> = { data: options.data, inputSize, paramCount, microChunk, shared, capacity };
      const worker = new Worker(options.script, { workerData: init });
      worker.unref(); // an idle worker never keeps the process alive
      const name = `${label}: training worker ${t}`;
      let detach = () => {};
      const ready = new Promise<void>((resolve, reject) => {
        const onMessage = (m: WorkerMessage) => (m.type === 'ready' ? resolve() : reject(new Error(`${name}: ${m.message}`)));
        const onError = (e: Error) => reject(new Error(`${name} failed to start: ${e.message}`, { cause: e }));
        const onExit = (code: number) => reject(new Error(`${name} exited during start-up (code ${code})`));
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
      // Those that did start wait for their first command (generation 1): let them clean up too.
      const exited = (w: Worker) => new Promise<void>((resolve) => w.once('exit', () => resolve()));
      await Promise.all(started.map((s) => stopWorker(s.worker, new Int32Array(s.shared, 0, CONTROL_INTS), 1, exited(s.worker))));
      throw e;
    }
    const workers = started.map((s, i) => {
      s.detach();
      return new ChunkWorker(s.worker, `${label}: training worker ${i + 1}`, s.shared, capacity);
    });
    return new MicroChunkPool(workers, inputSize, paramCount, microChunk);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Starts worker w on samples [start, start + m) of x/y with the given parameters (in order,
   * paramCount floats together); `start` must be a micro-chunk boundary. The worker's buffer
   * grows first if m exceeds it.
   */
  async start(w: number, x: Float32Array, y: Int32Array, start: number, m: number, params: readonly Float32Array[]): Promise<void> {
    const wk = this.workers[w]!;
    const { inputSize, paramCount, microChunk } = this;
    if (start % microChunk !== 0) throw new Error(`MicroChunkPool.start: sample ${start} is not on a micro-chunk boundary (${microChunk})`);
    if (m > wk.capacity) {
      const capacity = Math.max(m, 2 * wk.capacity);
      await wk.resize(new SharedArrayBuffer(layout(paramCount, inputSize, capacity, microChunk).bytes), capacity);
    }
    const L = layout(paramCount, inputSize, wk.capacity, microChunk);
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
   * Waits for worker w's samples: the float64 loss and the gradients of each of its micro-chunks
   * in order (views of the shared buffer, valid until the worker's next start). `spin`: poll
   * before sleeping (when this thread computed too).
   */
  async join(w: number, m: number, spin: boolean): Promise<{ losses: Float64Array; grads: Float32Array[] }> {
    const wk = this.workers[w]!;
    await wk.finish(spin);
    const { paramCount: P, microChunk } = this;
    const L = layout(P, this.inputSize, wk.capacity, microChunk);
    const count = Math.ceil(m / microChunk);
    const f32 = new Float32Array(wk.shared);
    return {
      losses: new Float64Array(wk.shared, L.losses * 8, count),
      grads: Array.from({ length: count }, (_, c) => f32.subarray(L.grads + c * P, L.grads + (c + 1) * P)),
    };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

/**
 * Worker-thread side: serves steps until told to exit. `compute` gets private copies of one
 * micro-chunk's samples and of the parameters (all in one array, in the pool's order) and returns
 * that micro-chunk's mean loss and its gradients in the same order (paramCount floats; the array
 * may be reused by the next call). `firstOfStep`: the parameters are new (a runtime that keeps
 * them loaded between calls need only load them then). `cleanup` runs when the pool stops the
 * worker, before the thread is terminated (release native resources there).
 */
export async function serveMicroChunkWorker(
  init: MicroChunkWorkerInit,
  compute: (x: Float32Array, y: Int32Array, n: number, params: Float32Array, firstOfStep: boolean) => ChunkResult | Promise<ChunkResult>,
  cleanup?: () => unknown,
): Promise<void> {
  const { parentPort, receiveMessageOnPort } = await nodeWorkerThreads();
  const port = parentPort!;
  const { inputSize, paramCount, microChunk } = init;
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
    if (cmd === Cmd.Exit) {
      // Clean up (e.g. release a native session) before acknowledging: the pool terminates the
      // thread once acknowledged.
      try {
        await cleanup?.();
      } catch {
        // the thread is going away either way
      }
      Atomics.store(ctrl, Ctl.Done, seen);
      Atomics.notify(ctrl, Ctl.Done);
      return;
    }
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
        const L = layout(paramCount, inputSize, capacity, microChunk);
        const f32 = new Float32Array(shared);
        const losses = new Float64Array(shared, L.losses * 8, L.slots);
        params.set(f32.subarray(L.params, L.params + paramCount));
        x.set(f32.subarray(L.x, L.x + n * inputSize));
        y.set(new Int32Array(shared).subarray(L.y, L.y + n));
        for (let c = 0, start = 0; start < n; c++, start += microChunk) {
          const m = Math.min(microChunk, n - start);
          const r = await compute(x.subarray(start * inputSize, (start + m) * inputSize), y.subarray(start, start + m), m, params, c === 0);
          if (r.grads.length !== paramCount) throw new Error(`compute returned ${r.grads.length} gradients, expected ${paramCount}`);
          f32.set(r.grads, L.grads + c * paramCount);
          losses[c] = r.loss;
        }
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
