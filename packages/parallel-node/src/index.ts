/**
 * @lenet/parallel-node: the one data-parallel training engine of LeNet Bench (Node only).
 * A batch is cut into micro-chunks of a fixed size, each computed on its own (on this thread or a
 * worker thread) and reduced in micro-chunk order in float64, so a backend trains bit-identically
 * for any thread count. See README.md.
 */
export { microChunkSizes, threadChunkRanges, sgdFromMicroChunks, type OptimizerState } from './micro-chunks.js';
export { DataParallelEngine, type DataParallelEngineOptions, type LocalCompute } from './engine.js';
export { MicroChunkPool, serveMicroChunkWorker, findWorkerScript, type MicroChunkPoolOptions, type MicroChunkWorkerInit, type ChunkResult } from './worker-pool.js';
