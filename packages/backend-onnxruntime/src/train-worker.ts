/**
 * Worker thread of the ORT data-parallel trainer (data-parallel.ts, on @lenet/parallel-node's
 * micro-chunk workers): one onnxruntime-node session (1 intra-op thread) or onnxruntime-web session (wasm,
 * 1 thread) of the gradients-only training graph, computing its run of micro-chunks of each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { serveMicroChunkWorker, type MicroChunkWorkerInit } from '@lenet/parallel-node';
import type { OrtChunkWorkerData } from './data-parallel.js';

type Ort = {
  InferenceSession: { create(b: Uint8Array, o: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: typeof OrtTensor;
  env: { wasm?: { numThreads?: number } };
};

const init = workerData as MicroChunkWorkerInit<OrtChunkWorkerData>;
const d = init.data;
const port = parentPort!;

try {
  // The runtime's name in a variable, as in backends.ts: bundlers must not follow the native addon.
  const mod = (await import(/* @vite-ignore */ d.runtime)) as { default?: Ort };
  const ort = (mod.default?.InferenceSession ? mod.default : mod) as Ort;
  // onnxruntime-web: one wasm thread per worker (each worker realm has its own wasm instance).
  const web = d.runtime === 'onnxruntime-web';
  if (web && ort.env.wasm) ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(d.graph, d.sessionOptions);
  const [c, h, w] = d.inputShape;

  const grads = new Float32Array(init.paramCount);
  const lossOut = new Float32Array(1);
  // ort-node writes the outputs straight into these; onnxruntime-web leaves preallocated CPU
  // outputs unfilled (session.ts), so there the results are copied.
  const fetches: Record<string, OrtTensor> = { [d.lossName]: new ort.Tensor('float32', lossOut, []) };
  let off = 0;
  for (const p of d.params) {
    fetches[p.gradName] = new ort.Tensor('float32', grads.subarray(off, off + p.size), p.shape);
    off += p.size;
  }

  await serveMicroChunkWorker(init, async (x, y, n, params) => {
    const feeds: Record<string, OrtTensor> = {
      [d.inputName]: new ort.Tensor('float32', x, [n, c, h, w]),
      [d.labelsName]: new ort.Tensor('int32', y, [n]),
    };
    let o = 0;
    for (const p of d.params) {
      feeds[p.name] = new ort.Tensor('float32', params.subarray(o, o + p.size), p.shape);
      o += p.size;
    }
    if (!web) {
      await session.run(feeds, fetches);
      return { loss: lossOut[0]!, grads };
    }
    const out = await session.run(feeds);
    o = 0;
    for (const p of d.params) {
      const t = out[p.gradName]!;
      grads.set(t.data as Float32Array, o);
      o += p.size;
      t.dispose();
    }
    const loss = (out[d.lossName]!.data as Float32Array)[0]!;
    out[d.lossName]!.dispose();
    return { loss, grads };
  },
  // onnxruntime-node: release the native session before the pool terminates this thread (killing
  // a thread with a live session aborts the process: "terminate called after throwing an instance
  // of 'Napi::Error'"). onnxruntime-web: nothing native, and its release() never settles in a
  // worker told to exit (measured), so none.
  web ? undefined : () => session.release());
} catch (e) {
  port.postMessage({ type: 'error', message: `could not start: ${(e as Error).message}` });
}
