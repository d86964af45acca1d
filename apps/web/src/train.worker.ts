/**
 * Dedicated Web Worker training @lenet/backend-plain (see train.ts). In a cross-origin-isolated
 * page the session may use threads > 1: the package's browser entry then runs a pool of nested
 * Web Workers with the same bit-identical reduction as its Node worker_threads pool (blocking
 * in Atomics.wait is allowed here, not on the page's main thread).
 */
import { plainBackend, plainJsBackend } from '@lenet/backend-plain';
import type { ImageSplit } from '@lenet/datasets';
import type { Weights } from '@lenet/model';
import { trainOnBackend } from './train.js';
import type { BrowserTraining, TrainEvent, TrainRequest } from './types.js';

export interface TrainJob {
  id: string;
  tier: 'wasm' | 'js';
  request: TrainRequest;
  dataset: string;
  train: ImageSplit;
  test: ImageSplit;
  versions: Record<string, string>;
}

export type TrainWorkerIn = { type: 'start'; job: TrainJob } | { type: 'stop' };
export type TrainWorkerOut = { type: 'event'; event: TrainEvent } | { type: 'done'; result: BrowserTraining; weights: Weights | null };

const scope = self as unknown as { onmessage: ((e: MessageEvent<TrainWorkerIn>) => void) | null; postMessage(m: TrainWorkerOut): void };
const controller = new AbortController();

scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'stop') {
    controller.abort();
    return;
  }
  const { job } = msg;
  void trainOnBackend(
    {
      id: job.id,
      family: 'plain',
      package: '@lenet/backend-plain',
      where: 'web worker',
      backend: job.tier === 'wasm' ? plainBackend : plainJsBackend,
      request: job.request,
      dataset: job.dataset,
      train: job.train,
      test: job.test,
      versions: job.versions,
    },
    (event) => scope.postMessage({ type: 'event', event }),
    controller.signal,
  ).then(({ result, weights }) => scope.postMessage({ type: 'done', result, weights }));
};
