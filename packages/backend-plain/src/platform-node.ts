/**
 * Node.js platform: worker_threads for data parallelism, os.availableParallelism() for the
 * default thread count. Imported (for its side effect) by the Node entry only.
 */
import { availableParallelism, cpus } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Platform, PlatformWorker } from './platform.js';
import { setPlatform } from './platform.js';
import type { WorkerInit } from './worker-types.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

export const nodePlatform: Platform = {
  name: 'node',
  async hardwareThreads() {
    return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  },
  startWorker(init: WorkerInit, label: string): PlatformWorker {
    const w = new Worker(WORKER_URL, { workerData: init });
    // Never keep the process alive because of an idle worker.
    w.unref();
    const ready = new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', (e) => reject(new Error(`${label}: worker ${init.index} failed to start: ${e.message}`, { cause: e })));
      w.once('exit', (code) => reject(new Error(`${label}: worker ${init.index} exited during start-up (code ${code})`)));
    }).finally(() => w.removeAllListeners());
    ready.catch(() => undefined);
    return { ready, terminate: () => w.terminate() };
  },
};

setPlatform(nodePlatform);
