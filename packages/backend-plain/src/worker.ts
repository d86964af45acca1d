/** Node worker thread of a plain session (started by platform-node.ts): see worker-loop.ts. */
import { parentPort, workerData } from 'node:worker_threads';
import { serveWorker } from './worker-loop.js';
import type { WorkerInit } from './worker-types.js';

export type { WorkerInit } from './worker-types.js';

serveWorker(workerData as WorkerInit, () => parentPort!.postMessage('ready'));
