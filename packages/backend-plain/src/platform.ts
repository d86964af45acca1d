/**
 * What differs between Node and browsers, behind one small interface: how many hardware
 * threads there are and how to start a worker thread. The Node entry (index.ts) registers
 * the worker_threads implementation (platform-node.ts); the browser entry (index.browser.ts,
 * picked by the package's "browser" export condition) registers the Web Worker implementation
 * (platform-web.ts) where workers can run, else the single-thread default below, so browser
 * bundles hold no Node built-in.
 */
import type { WorkerInit } from './worker-types.js';

/** A started worker thread. */
export interface PlatformWorker {
  /** Resolves once the worker serves commands; rejects if it fails to start. */
  readonly ready: Promise<void>;
  /** Stops the worker. */
  terminate(): Promise<unknown>;
}

export interface Platform {
  readonly name: string;
  /** Default thread count for a session. */
  hardwareThreads(): Promise<number>;
  /** Starts one worker thread; absent where threads > 1 cannot run. */
  startWorker?(init: WorkerInit, label: string): PlatformWorker;
  /** Why threads > 1 cannot run here (when startWorker is absent). */
  readonly noThreadsReason?: string;
}

/** Browsers (and any runtime without a registered platform): one thread, no workers. */
export const singleThreadPlatform: Platform = {
  name: 'browser',
  async hardwareThreads() {
    return 1;
  },
  noThreadsReason:
    'threads > 1 needs worker threads: Node.js worker_threads (the Node entry), or Web Workers inside a Web Worker of a ' +
    'cross-origin-isolated page (the browser entry); none is available here',
};

let current: Platform = singleThreadPlatform;

export function setPlatform(p: Platform): void {
  current = p;
}

export function platform(): Platform {
  return current;
}
