/**
 * One cold start in a fresh document (cold-start.html), which the page loads in a new iframe per
 * sample (cold-start-runner.ts): a new realm, so the backend package, its runtime, the wasm and
 * any GPU context are instantiated afresh (the HTTP cache is the browser's, warm after the first
 * sample, as on a user's second visit). It tells its parent it is ready, gets one job (backend id,
 * model, weights, a training batch) and times, in order:
 *   import   dynamic import() of the backend package, then available() (our packages load their
 *            runtime — TF.js, onnxruntime-web, jax-js, the wasm kernels — on first use);
 *   session  createTrainingSession (backends that train) or createSession on the job's weights;
 *   predict  the first batch-1 predict;
 *   step     the first training step on the job's batch (backends that train);
 * the same phases as `lenet-bench run --cold-starts` (apps/bench/src/run/cold-start-child.ts).
 * Nothing backend-related is imported before the clock starts (type imports only).
 * Every backend runs on this document's main thread, plain too (the page runs plain in a worker).
 */
import type { BackendSession, TrainingSession } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import type { PageColdStartSample } from '@lenet/browser-protocol';
// Only dynamic import()s inside: importing it loads no backend.
import { COLD_START_LOADERS } from './cold-start-loaders.js';

export interface ColdStartJob {
  id: string;
  spec: ModelSpec;
  weights: Weights;
  /** A training batch (NCHW pixels/255) and its labels; the first image is the prediction's. */
  x: Float32Array;
  y: Int32Array;
  n: number;
  lr: number;
}

export type ColdStartReply = { type: 'coldStartReady' } | { type: 'coldStartDone'; sample: PageColdStartSample } | { type: 'coldStartFailed'; phase: string; message: string };

async function coldStart(job: ColdStartJob): Promise<PageColdStartSample> {
  const load = COLD_START_LOADERS[job.id];
  if (!load) throw new Error(`no cold-start loader for page backend "${job.id}"`);
  const t0 = performance.now();
  phase = 'import';
  const backend = await load();
  const ok = await backend.available();
  if (ok !== true) throw new Error(`${job.id} is not available here: ${ok}`);
  const t1 = performance.now();
  phase = 'session';
  // As the Node cold start: a backend that trains is timed through the session it trains with.
  const training: TrainingSession | null = backend.createTrainingSession ? await backend.createTrainingSession(job.spec, job.weights, { maxBatchSize: job.n }) : null;
  const session: BackendSession = training ?? (await backend.createSession(job.spec, job.weights, { maxBatchSize: job.n }));
  const t2 = performance.now();
  phase = 'first predict';
  const logits = await session.predict(job.x.subarray(0, job.x.length / job.n), 1);
  const t3 = performance.now();
  if (!logits.every(Number.isFinite)) throw new Error('the first prediction has non-finite logits');
  let t4: number | null = null;
  if (training) {
    phase = 'first step';
    const loss = await training.trainStep(job.x, job.y, job.n, job.lr);
    t4 = performance.now();
    if (!Number.isFinite(loss)) throw new Error(`the first training step returned loss ${loss}`);
  }
  await session.dispose();
  return {
    importMs: t1 - t0,
    sessionMs: t2 - t1,
    firstPredictMs: t3 - t2,
    firstStepMs: t4 === null ? null : t4 - t3,
    endsMs: { import: t1 - t0, session: t2 - t0, firstPredict: t3 - t0, firstStep: t4 === null ? null : t4 - t0 },
  };
}

let phase = 'start';
const reply = (m: ColdStartReply) => window.parent.postMessage(m, location.origin);

if (window.parent !== window) {
  window.addEventListener('message', (e: MessageEvent<{ type: string; job: ColdStartJob }>) => {
    if (e.source !== window.parent || e.origin !== location.origin || e.data?.type !== 'coldStart') return;
    coldStart(e.data.job).then(
      (sample) => reply({ type: 'coldStartDone', sample }),
      (err: unknown) => reply({ type: 'coldStartFailed', phase, message: err instanceof Error ? err.message.split('\n')[0]! : String(err) }),
    );
  });
  reply({ type: 'coldStartReady' });
} else {
  document.body.textContent = 'This document times one cold start for the LeNet Bench page (index.html), which loads it in an iframe.';
}
