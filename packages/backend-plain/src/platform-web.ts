/**
 * Browser platform: data parallelism over Web Workers, the same Runner and micro-chunk
 * reduction as Node's worker_threads (so weights are bit-identical for any thread count).
 * It needs SharedArrayBuffer (a cross-origin-isolated page, COOP/COEP) and a thread that may
 * block in Atomics.wait while the workers run (a Web Worker; browsers forbid it on the main
 * thread). Where either is missing, sessions run on one thread and threads > 1 says why.
 */
import type { Platform, PlatformWorker } from './platform.js';
import { setPlatform, singleThreadPlatform } from './platform.js';
import type { WorkerInit } from './worker-types.js';

/** Why this context cannot run a worker pool, or null when it can. */
export function webThreadsUnavailable(): string | null {
  const g = globalThis as { Worker?: unknown; SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; document?: unknown };
  if (typeof g.Worker !== 'function') return 'threads > 1 needs Web Workers, which this context lacks';
  if (typeof g.SharedArrayBuffer !== 'function' || g.crossOriginIsolated !== true) {
    return 'threads > 1 needs SharedArrayBuffer: serve the page cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp)';
  }
  if (g.document !== undefined) {
    return 'threads > 1 cannot run on the page\'s main thread (browsers forbid Atomics.wait there): create the session inside a Web Worker';
  }
  return null;
}

function startWebWorker(init: WorkerInit, label: string): PlatformWorker {
  const w = new Worker(new URL('./worker.browser.js', import.meta.url), { type: 'module', name: `${label}-worker-${init.index}` });
  const ready = new Promise<void>((resolve, reject) => {
    w.onmessage = () => resolve();
    w.onerror = (e) => {
      e.preventDefault?.();
      reject(new Error(`${label}: worker ${init.index} failed to start: ${e.message || 'could not load worker.browser.js'}`));
    };
  }).finally(() => {
    w.onmessage = null;
    w.onerror = null;
  });
  ready.catch(() => undefined);
  w.postMessage(init);
  return {
    ready,
    async terminate() {
      w.terminate();
    },
  };
}

export const webPlatform: Platform = {
  name: 'web',
  async hardwareThreads() {
    return Math.max(1, (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1);
  },
  startWorker: startWebWorker,
};

const reason = webThreadsUnavailable();
setPlatform(reason === null ? webPlatform : { ...singleThreadPlatform, noThreadsReason: reason });
