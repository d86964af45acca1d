/**
 * One backend's cell of `lenet-bench run`, in its own process (forked by the runner): isolation,
 * fair timing, per-process peak memory, and a crash here cannot lose the other cells.
 *
 * Receives one ChildJob over IPC, then: seeded init weights -> train (core's train, with the
 * profile's budget) -> save the final weights -> evaluate them on the full test split ->
 * agreement logits on the shared weights -> tinybench inference -> peak RSS. Every finished phase
 * is sent to the parent at once, so a later crash keeps the earlier results.
 *
 * Test hooks (used by the harness's own tests to cause real failures, never set otherwise):
 *   LENET_BENCH_TEST_FAIL=backend:phase  throw an Error when `backend` enters `phase`
 *   LENET_BENCH_TEST_KILL=backend:phase  SIGKILL this process when `backend` enters `phase`
 */
import { evaluate, train, type BackendSession } from '@lenet/core';
import { initWeights, type Weights } from '@lenet/model';
import { loadWeightsFile, saveWeightsFile } from '@lenet/model/node';
import { Batcher, splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { describeError, CliError } from '../errors.js';
import { loadData } from '../data.js';
import { loadRegistry } from '../registry.js';
import { measureInference } from './inference.js';
import type { ChildJob, ChildMessage, LossPoint, Phase, TrainingResult } from './types.js';

const STEP_MESSAGE_INTERVAL_MS = 250;
const LOSS_TRACE_POINTS = 200;
const PROBE_SECONDS = 3;

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

const peakRssMB = () => process.resourceUsage().maxRSS / 1024;

function testHook(backend: string, phase: Phase): void {
  const matches = (v: string | undefined) => (v ?? '').split(',').some((e) => e.trim() === `${backend}:${phase}`);
  if (matches(process.env.LENET_BENCH_TEST_KILL)) process.kill(process.pid, 'SIGKILL');
  if (matches(process.env.LENET_BENCH_TEST_FAIL)) throw new Error(`injected failure (LENET_BENCH_TEST_FAIL) in phase ${phase}`);
}

/** Means of consecutive step losses: at most LOSS_TRACE_POINTS points for the loss chart. */
function lossTrace(steps: { images: number; loss: number; epoch: number }[]): LossPoint[] {
  const size = Math.max(1, Math.ceil(steps.length / LOSS_TRACE_POINTS));
  const out: LossPoint[] = [];
  for (let i = 0; i < steps.length; i += size) {
    const bucket = steps.slice(i, i + size);
    const last = bucket[bucket.length - 1]!;
    out.push({ images: last.images, loss: bucket.reduce((a, s) => a + s.loss, 0) / bucket.length, epoch: last.epoch });
  }
  return out;
}

/** `count` images as float32, repeating the split's images when it has fewer (tiny --limit runs). */
function images(split: ImageSplit, count: number): Float32Array {
  const px = split.rows * split.cols;
  const have = Math.min(count, split.count);
  const out = new Float32Array(count * px);
  out.set(splitToFloat(split, 0, have));
  for (let i = have; i < count; i++) out.copyWithin(i * px, (i % have) * px, ((i % have) + 1) * px);
  return out;
}

/** Full profile: time a few lr = 0 steps (no weight change) to decide whether the recipe fits. */
async function probeThroughput(session: BackendSession, train: ImageSplit, job: ChildJob): Promise<{ steps: number; imagesPerSecond: number }> {
  const batcher = new Batcher(train, { batchSize: job.batchSize, seed: job.seed });
  const px = train.rows * train.cols;
  let steps = 0;
  let imagesDone = 0;
  let seconds = 0;
  for (const b of batcher.epoch(0)) {
    const t0 = performance.now();
    await session.trainStep!(b.x.subarray(0, b.n * px), b.y.subarray(0, b.n), b.n, 0);
    const dt = (performance.now() - t0) / 1000;
    // The first step carries one-off setup (JIT, graph building): not counted.
    if (steps > 0) {
      seconds += dt;
      imagesDone += b.n;
    }
    steps++;
    if ((seconds >= PROBE_SECONDS && steps >= 3) || steps >= 50) break;
  }
  return { steps, imagesPerSecond: seconds > 0 ? imagesDone / seconds : 0 };
}

async function runJob(job: ChildJob, setPhase: (p: Phase) => void): Promise<void> {
  const enter = async (p: Phase, detail?: string) => {
    setPhase(p);
    // The parent learns the phase first, so a crash in it is reported against the right phase.
    await send({ type: 'phase', phase: p, detail });
    testHook(job.backend, p);
  };
  await enter('start');
  const registry = await loadRegistry();
  const entry = registry.entries.find((e) => e.backend.name === job.backend);
  if (!entry) {
    const failed = registry.failedPackages.map((f) => `${f.packageName}: ${f.reason}`).join('; ');
    throw new CliError(`unknown backend "${job.backend}"${failed ? ` (packages that failed to load: ${failed})` : ''}`);
  }
  const { backend } = entry;
  const ok = await backend.available();
  if (ok !== true) throw new CliError(`backend "${backend.name}" is not available here: ${ok}`);
  const threads = job.threads ?? undefined;
  const info = await backend.info({ threads });
  await send({
    type: 'info',
    info: { package: entry.packageName, description: backend.description, canTrain: backend.canTrain, runtime: info.runtime, versions: info.versions, threads: info.threads ?? job.threads },
  });

  await enter('data');
  const data = await loadData(job.dataset, { dataDir: job.dataDir, limit: job.limit ?? undefined, quiet: true });
  const spec = job.spec;
  const px = data.test.rows * data.test.cols;
  const evalBatch = 1000;

  let sharedPath = job.agreementWeights;
  let evaluated = false;
  if (backend.canTrain) {
    await enter('session');
    const session = await backend.createSession(spec, initWeights(spec, job.seed), { threads, maxBatchSize: Math.max(job.batchSize, evalBatch) });
    try {
      await enter('train');
      let maxSeconds = job.trainSeconds;
      let reason = maxSeconds !== null ? `at most ${maxSeconds} s of training` : `the full recipe (${job.epochs} epochs)`;
      let probe: TrainingResult['probe'] = null;
      if (maxSeconds === null && job.maxProjectedSeconds !== null) {
        probe = await probeThroughput(session, data.train, job);
        const projected = (job.epochs * data.train.count) / Math.max(probe.imagesPerSecond, 1e-9);
        if (projected > job.maxProjectedSeconds) {
          maxSeconds = job.fallbackTrainSeconds;
          reason =
            `probe: ${Math.round(probe.imagesPerSecond)} img/s, so ${job.epochs} epochs would take ~${Math.round(projected / 60)} min ` +
            `(limit ${Math.round(job.maxProjectedSeconds / 60)} min): budget-limited to ${maxSeconds} s of training`;
        }
      }
      if (job.maxStepsPerEpoch !== null) reason += `, at most ${job.maxStepsPerEpoch} steps per epoch`;
      const steps: { images: number; loss: number; epoch: number }[] = [];
      let imagesBefore = 0;
      let lastSent = 0;
      const result = await train({
        session,
        spec,
        train: data.train,
        test: data.test,
        epochs: job.epochs,
        batchSize: job.batchSize,
        lr: job.lr,
        seed: job.seed,
        targetAccuracy: job.targetAccuracy,
        maxSeconds: maxSeconds ?? undefined,
        maxStepsPerEpoch: job.maxStepsPerEpoch ?? undefined,
        evalBatchSize: evalBatch,
        onStep: (p) => {
          steps.push({ images: imagesBefore + p.images, loss: p.loss, epoch: p.epoch });
          const now = performance.now();
          if (now - lastSent >= STEP_MESSAGE_INTERVAL_MS || p.step === p.stepsPerEpoch) {
            lastSent = now;
            void send({ type: 'step', progress: p });
          }
        },
        onEpoch: (m) => {
          imagesBefore += m.images;
          void send({ type: 'epoch', metrics: m });
        },
      });
      const images = result.epochs.reduce((a, e) => a + e.images, 0);
      const ips = result.trainSeconds > 0 ? images / result.trainSeconds : 0;
      const projected = result.epochs.length < job.epochs || result.epochs.some((e) => e.partial);
      const epochSeconds = projected ? data.train.count / Math.max(ips, 1e-9) : result.trainSeconds / result.epochs.length;
      await saveWeightsFile(job.weightsOut, await session.getWeights(), {
        spec: JSON.stringify(spec),
        backend: backend.name,
        dataset: job.dataset,
        seed: String(job.seed),
        epochs: String(result.epochs.length),
        batchSize: String(job.batchSize),
        lr: String(job.lr),
      });
      await send({
        type: 'training',
        skipped: null,
        training: {
          epochs: result.epochs,
          stoppedBy: result.stoppedBy === 'budget' ? 'budget' : null,
          budget: { maxSeconds, maxStepsPerEpoch: job.maxStepsPerEpoch, reason },
          totalSteps: result.totalSteps,
          trainSeconds: result.trainSeconds,
          imagesPerSecond: ips,
          epochSeconds,
          recipeSeconds: projected ? epochSeconds * job.epochs : result.trainSeconds,
          projected,
          timeToTarget: result.timeToTarget ?? null,
          lossTrace: lossTrace(steps),
          probe,
          weightsFile: job.weightsOut,
        },
      });
      sharedPath ??= job.weightsOut;

      await enter('evaluate');
      if (result.finalEvaluation && result.stoppedBy !== 'signal') {
        // The last epoch's evaluation already ran on the final weights: no second pass.
        const last = result.epochs.at(-1)!;
        await send({ type: 'evaluation', evaluation: { ...result.finalEvaluation, seconds: last.evalSeconds } });
      } else {
        const t0 = performance.now();
        const ev = await evaluate(session, data.test, { batchSize: evalBatch });
        await send({ type: 'evaluation', evaluation: { ...ev, seconds: (performance.now() - t0) / 1000 } });
      }
      evaluated = true;
    } finally {
      await session.dispose();
    }
  } else {
    await send({ type: 'training', training: null, skipped: `${backend.name} cannot train (inference only)` });
  }

  // A fresh inference session on the shared weights: agreement, evaluation of inference-only
  // backends, and the latency/throughput measurement.
  await enter('agreement');
  let weights: Weights;
  if (sharedPath) weights = (await loadWeightsFile(sharedPath, spec)).weights;
  else weights = initWeights(spec, job.seed);
  const session = await backend.createSession(spec, weights, { threads, maxBatchSize: Math.max(256, evalBatch, job.agreementImages) });
  try {
    if (sharedPath) {
      const n = Math.min(job.agreementImages, data.test.count);
      const subset = stratifiedSubset(data.test, n, 0);
      const logits = await session.predict(splitToFloat(subset), n);
      await send({ type: 'agreement', logits: Array.from(logits), weightsFile: sharedPath });
    }
    if (!evaluated) {
      await enter('evaluate', 'shared weights');
      const t0 = performance.now();
      const ev = await evaluate(session, data.test, { batchSize: evalBatch });
      await send({ type: 'evaluation', evaluation: { ...ev, seconds: (performance.now() - t0) / 1000 } });
    }
    await enter('inference');
    const inference = await measureInference(session, images(data.test, 256), px, job.inferenceSeconds);
    await send({ type: 'inference', inference });
  } finally {
    await session.dispose();
  }
}

async function main(): Promise<void> {
  let phase: Phase = 'start';
  // Ctrl-C reaches the whole process group: the parent decides, and kills us.
  process.on('SIGINT', () => {});
  // The parent is gone (killed): nobody will read our results.
  process.on('disconnect', () => process.exit(1));
  const job = await new Promise<ChildJob>((resolve) => process.once('message', (m) => resolve(m as ChildJob)));
  try {
    await runJob(job, (p) => (phase = p));
    await send({ type: 'done', peakRssMB: peakRssMB() });
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', phase, message: describeError(err), peakRssMB: peakRssMB() });
    if (process.env.LENET_BENCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}

await main();
