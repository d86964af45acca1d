// A micro-chunk worker that computes nothing (fixed gradients): what is left of a step is the
// engine's own cost (copies through the shared buffer, signalling, the float64 reduction).
import { workerData } from 'node:worker_threads';
import { serveMicroChunkWorker } from '@lenet/parallel-node';

const grads = new Float32Array(workerData.paramCount).fill(1e-3);
await serveMicroChunkWorker(workerData, () => ({ loss: 1, grads }));
