/**
 * Worker thread of the ORT data-parallel trainer (data-parallel.ts): one onnxruntime-node
 * session (1 intra-op thread) or onnxruntime-web session (wasm, 1 thread) of the
 * gradients-only training graph. It sleeps in Atomics.wait
 * until the trainer bumps the generation counter, then runs its chunk of the batch from the
 * shared buffer (train-worker-types.ts) and writes back the chunk's mean loss and gradients.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { Cmd, Ctl, CONTROL_INTS, sharedLayout } from './train-worker-types.js';
import type { TrainWorkerInit, TrainWorkerMessage } from './train-worker-types.js';

const init = workerData as TrainWorkerInit;
/** How long an idle worker polls for the next command before it sleeps. */
const SPIN_MS = 2;
const port = parentPort!;
const post = (m: TrainWorkerMessage): void => port.postMessage(m);

type Ort = {
  InferenceSession: { create(b: Uint8Array, o: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: typeof OrtTensor;
  env: { wasm?: { numThreads?: number } };
};

async function main(): Promise<void> {
  // A variable specifier, as in backends.ts: bundlers must not follow the native addon.
  const mod = (await import(/* @vite-ignore */ init.runtime)) as { default?: Ort };
  const ort = (mod.default?.InferenceSession ? mod.default : mod) as Ort;
  // onnxruntime-web: one wasm thread per worker (this realm has its own wasm instance).
  const web = init.runtime === 'onnxruntime-web';
  if (web && ort.env.wasm) ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(init.graph, init.sessionOptions);
  const [c, h, w] = init.inputShape;
  const size = c * h * w;
  const paramCount = init.params.reduce((a, p) => a + p.size, 0);

  // Private (non-shared) tensors ORT reads and writes; refilled from/to the shared buffer.
  const params = init.params.map((p) => new Float32Array(p.size));
  const grads = init.params.map((p) => new Float32Array(p.size));
  const lossOut = new Float32Array(1);
  const fetches: Record<string, OrtTensor> = { [init.lossName]: new ort.Tensor('float32', lossOut, []) };
  init.params.forEach((p, i) => (fetches[p.gradName] = new ort.Tensor('float32', grads[i]!, p.shape)));
  const paramFeeds: Record<string, OrtTensor> = {};
  init.params.forEach((p, i) => (paramFeeds[p.name] = new ort.Tensor('float32', params[i]!, p.shape)));

  let shared = init.shared;
  let capacity = init.capacity;
  let x = new Float32Array(capacity * size);
  let y = new Int32Array(capacity);
  post({ type: 'ready' });

  let seen = 0;
  for (;;) {
    const ctrl = new Int32Array(shared, 0, CONTROL_INTS);
    // Spin a little before sleeping: the next step usually comes within a millisecond, and
    // waking a sleeping thread (an idle vCPU, on a VM) can take as long as that.
    const until = performance.now() + SPIN_MS;
    while (Atomics.load(ctrl, Ctl.Gen) === seen && performance.now() < until);
    Atomics.wait(ctrl, Ctl.Gen, seen);
    seen = Atomics.load(ctrl, Ctl.Gen);
    const cmd = Atomics.load(ctrl, Ctl.Cmd);
    if (cmd === Cmd.Exit) break;
    try {
      if (cmd === Cmd.Resize) {
        // The new buffer was posted before the command; this one stays valid until Done.
        const msg = receiveMessageOnPort(port)?.message as { shared: SharedArrayBuffer; capacity: number } | undefined;
        if (!msg) throw new Error('resize without a buffer');
        shared = msg.shared;
        capacity = msg.capacity;
        x = new Float32Array(capacity * size);
        y = new Int32Array(capacity);
      } else {
        const n = Atomics.load(ctrl, Ctl.N);
        const L = sharedLayout(paramCount, size, capacity);
        const f32 = new Float32Array(shared);
        const i32 = new Int32Array(shared);
        let off = L.params;
        for (let i = 0; i < params.length; i++) {
          params[i]!.set(f32.subarray(off, off + params[i]!.length));
          off += params[i]!.length;
        }
        x.set(f32.subarray(L.x, L.x + n * size));
        y.set(i32.subarray(L.y, L.y + n));
        const feeds: Record<string, OrtTensor> = {
          ...paramFeeds,
          [init.inputName]: new ort.Tensor('float32', n === capacity ? x : x.subarray(0, n * size), [n, c, h, w]),
          [init.labelsName]: new ort.Tensor('int32', n === capacity ? y : y.subarray(0, n), [n]),
        };
        if (web) {
          // onnxruntime-web leaves preallocated CPU outputs unfilled (session.ts): copy results.
          const out = await session.run(feeds);
          off = L.grads;
          for (const p of init.params) {
            const t = out[p.gradName]!;
            f32.set(t.data as Float32Array, off);
            off += p.size;
            t.dispose();
          }
          f32[L.loss] = (out[init.lossName]!.data as Float32Array)[0]!;
          out[init.lossName]!.dispose();
        } else {
          await session.run(feeds, fetches);
          off = L.grads;
          for (const g of grads) {
            f32.set(g, off);
            off += g.length;
          }
          f32[L.loss] = lossOut[0]!;
        }
      }
      Atomics.store(ctrl, Ctl.Error, 0);
    } catch (e) {
      post({ type: 'error', message: (e as Error).message });
      Atomics.store(ctrl, Ctl.Error, 1);
    }
    Atomics.store(ctrl, Ctl.Done, seen);
    Atomics.notify(ctrl, Ctl.Done);
  }
  await session.release();
}

main().catch((e: unknown) => post({ type: 'error', message: `could not start: ${(e as Error).message}` }));
