/**
 * Dedicated Web Worker running @lenet/backend-plain's inference measurement with the package's default threads (its Web Worker pool)
 * (batch-1 latency is one thread's work in any case; training uses the package's Web Worker
 * pool, see train.worker.ts). The
 * whole measurement runs here, so timings do not include postMessage.
 */
import { plainBackend, plainJsBackend } from '@lenet/backend-plain';
import type { ImageSplit } from '@lenet/datasets';
import type { ModelSpec, Weights } from '@lenet/model';
import { runBackend } from './measure.js';
import type { BrowserResult } from './types.js';

export interface PlainJob {
  id: string;
  tier: 'wasm' | 'js';
  spec: ModelSpec;
  weights: Weights;
  split: ImageSplit;
  inferenceSeconds: number;
  agreementImages: number;
  versions: Record<string, string>;
}

export type PlainReply = { ok: true; result: BrowserResult; kernel: string } | { ok: false; message: string };

const scope = self as unknown as { onmessage: ((e: MessageEvent<PlainJob>) => void) | null; postMessage(m: PlainReply): void };

scope.onmessage = (e) => {
  const job = e.data;
  const backend = job.tier === 'wasm' ? plainBackend : plainJsBackend;
  runBackend({
    id: job.id,
    family: 'plain',
    package: '@lenet/backend-plain',
    where: 'web worker',
    backend,
    spec: job.spec,
    weights: job.weights,
    split: job.split,
    inferenceSeconds: job.inferenceSeconds,
    agreementImages: job.agreementImages,
    versions: job.versions,
  }).then(
    (result) => {
      // info().runtime says which kernel tier actually runs ("plain" falls back to the
      // TypeScript kernels when the SIMD module cannot load).
      scope.postMessage({ ok: true, result, kernel: result.runtime ?? '' });
    },
    (err: unknown) => scope.postMessage({ ok: false, message: (err as Error).message }),
  );
};
