/**
 * Web Worker of a plain session in a browser (started by platform-web.ts): the first message
 * is its WorkerInit (shared buffers and the compiled kernel module); then see worker-loop.ts.
 */
import { serveWorker } from './worker-loop.js';
import type { WorkerInit } from './worker-types.js';

const scope = self as unknown as { onmessage: ((e: MessageEvent<WorkerInit>) => void) | null; postMessage(m: string): void };

scope.onmessage = (e) => {
  scope.onmessage = null;
  serveWorker(e.data, () => scope.postMessage('ready'));
};
