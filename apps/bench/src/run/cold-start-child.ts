/**
 * One cold start, in a fresh process forked by the runner (cold-start.ts) through CellProcess:
 * the process waits for its one 'coldStart' command, then times, in order,
 *   import   import() of the backend package, then available(): our packages load their runtime
 *            (TF.js, ONNX Runtime, jax-js, the wasm kernels) on first use, so this is the import
 *            of the package and its runtime as a user's first call pays it;
 *   session  createSession (createTrainingSession for trainable backends) on the shared seeded init;
 *   predict  the first batch-1 predict;
 *   step     the first training step on the recipe's first batch (trainable backends);
 * sends the sample and exits. Nothing backend-related is imported before the clock starts: this
 * file imports only Node built-ins statically, and @lenet/model after the import phase.
 */
import type { ChildMessage, ColdStartJob, ColdStartSample, ParentCommand, Phase } from './types.js';

type CreateSession<S> = (spec: ColdStartJob['spec'], weights: unknown, options?: { threads?: number; maxBatchSize?: number }) => Promise<S>;
interface SessionLike {
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}
interface TrainingSessionLike extends SessionLike {
  trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number>;
}
/** The contract's Backend, restated here so that nothing is imported before the clock starts. */
interface BackendLike {
  name: string;
  available(): Promise<true | string>;
  createSession: CreateSession<SessionLike>;
  createTrainingSession?: CreateSession<TrainingSessionLike>;
}

const send = (m: ChildMessage) => new Promise<void>((resolve) => (process.send && process.connected ? process.send(m, undefined, {}, () => resolve()) : resolve()));
const peakRssMB = () => process.resourceUsage().maxRSS / 1024;

let phase: Phase = 'start';

async function coldStart(job: ColdStartJob): Promise<ColdStartSample> {
  const t0 = performance.now();
  const mod = (await import(job.packageName)) as { backends?: BackendLike[] };
  const backend = mod.backends?.find((b) => b.name === job.backend);
  if (!backend) throw new Error(`${job.packageName} has no backend "${job.backend}"`);
  const ok = await backend.available();
  if (ok !== true) throw new Error(`backend "${job.backend}" is not available here: ${ok}`);
  const t1 = performance.now();
  phase = 'session';
  const { initWeights } = await import('@lenet/model');
  const weights = initWeights(job.spec, job.seed);
  const tw = performance.now(); // the init is the harness's work, not the backend's
  // A backend that trains is timed through createTrainingSession, the session its users train with.
  const createTraining = job.train ? backend.createTrainingSession?.bind(backend) : undefined;
  if (job.train && !createTraining) throw new Error(`backend "${job.backend}" cannot train (it has no createTrainingSession)`);
  const options = { threads: job.threads ?? undefined, maxBatchSize: job.n };
  const trainable = createTraining ? await createTraining(job.spec, weights, options) : null;
  const session: SessionLike = trainable ?? (await backend.createSession(job.spec, weights, options));
  const t2 = performance.now();
  phase = 'inference';
  const px = job.x.length / job.n;
  const logits = await session.predict(job.x.subarray(0, px), 1);
  const t3 = performance.now();
  if (!logits.every(Number.isFinite)) throw new Error('the first prediction has non-finite logits');
  let t4: number | null = null;
  if (trainable) {
    phase = 'train';
    const loss = await trainable.trainStep(job.x, job.y, job.n, job.lr);
    t4 = performance.now();
    if (!Number.isFinite(loss)) throw new Error(`the first training step returned loss ${loss}`);
  }
  await session.dispose();
  return {
    importMs: t1 - t0,
    sessionMs: t2 - tw,
    firstPredictMs: t3 - t2,
    firstStepMs: t4 === null ? null : t4 - t3,
    pid: process.pid,
    endsMs: { import: t1, session: t2, firstPredict: t3, firstStep: t4 },
  };
}

process.on('SIGINT', () => {}); // the parent decides, and kills us
process.on('disconnect', () => process.exit(1));
process.on('message', (raw) => {
  void (async () => {
    const c = raw as ParentCommand;
    if (c.type === 'exit') {
      await send({ type: 'done', peakRssMB: peakRssMB() });
      process.exit(0);
    }
    if (c.type !== 'coldStart') return;
    try {
      await send({ type: 'coldStart', sample: await coldStart(c.job) });
    } catch (err) {
      await send({ type: 'error', phase, message: err instanceof Error ? err.message.split('\n')[0]! : String(err), peakRssMB: peakRssMB() });
      process.exit(1);
    }
  })();
});
