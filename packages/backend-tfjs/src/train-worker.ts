/**
 * Worker thread of TF.js data-parallel training (@lenet/core/data-parallel): builds the same
 * TF.js backend as the main thread (single-threaded) and computes one chunk of each batch.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveChunkWorker, type ChunkWorkerInit } from '@lenet/core/data-parallel';
import { initWeights } from '@lenet/model';
import type { TfjsChunkWorkerData, TfjsSession } from './backend.js';
import { createTfjsCpuBackend, createTfjsWasmBackend } from './backends.js';

const init = workerData as ChunkWorkerInit<TfjsChunkWorkerData>;
const { backend: how, spec } = init.data;

try {
  const backend = (how.factory === 'wasm' ? createTfjsWasmBackend : createTfjsCpuBackend)(how.options);
  // threads: 1, so this session computes here instead of starting workers of its own; the
  // weights are placeholders, every step brings the current ones.
  const session = (await backend.createSession(spec, initWeights(spec, 0), { threads: 1 })) as TfjsSession;
  await serveChunkWorker(init, async (x, y, n, params) => session.chunkGradients(x, y, n, params));
  await session.dispose();
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: `could not start: ${(e as Error).message}` });
}
