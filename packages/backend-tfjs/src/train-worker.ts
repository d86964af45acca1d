/**
 * Worker thread of TF.js data-parallel training (@lenet/parallel-node): builds the same TF.js
 * backend as the main thread (single-threaded) and computes its run of micro-chunks of each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveMicroChunkWorker, type MicroChunkWorkerInit } from '@lenet/parallel-node';
import { initWeights } from '@lenet/model';
import type { TfjsChunkWorkerData, TfjsSession } from './backend.js';
import { createTfjsCpuBackend, createTfjsWasmBackend } from './backends.js';

const init = workerData as MicroChunkWorkerInit<TfjsChunkWorkerData>;
const { backend: how, spec } = init.data;

try {
  const backend = (how.factory === 'wasm' ? createTfjsWasmBackend : createTfjsCpuBackend)(how.options);
  // threads: 1, so this session starts no workers of its own; the weights are placeholders,
  // every micro-chunk brings the current ones.
  const session = (await backend.createSession(spec, initWeights(spec, 0), { threads: 1 })) as TfjsSession;
  await serveMicroChunkWorker(init, (x, y, n, params, firstOfStep) => session.chunkGradients(x, y, n, firstOfStep ? params : undefined));
  await session.dispose();
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: `could not start: ${(e as Error).message}` });
}
