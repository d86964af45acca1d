/**
 * One backend's cell of `lenet-bench run`, in its own process (forked by the runner): isolation,
 * per-process peak memory, and a crash here cannot lose the other cells.
 *
 * The process lives for the whole run and does what the parent's commands say (ParentCommand in
 * types.ts), one at a time: the parent makes the backends take turns, window by window, so that
 * they share the machine's good and bad moments alike. Training is core's `train` run once for
 * the whole recipe; its `beforeStep` gate pauses it between windows.
 *
 * Test hooks (used by the harness's own tests to cause real failures, never set otherwise):
 *   LENET_BENCH_TEST_FAIL=backend:phase  throw an Error when `backend` enters `phase`
 *   LENET_BENCH_TEST_KILL=backend:phase  SIGKILL this process when `backend` enters `phase`
 */
import { canTrain, evaluate, train, type Backend, type BackendSession, type EvalPoint, type TrainingBackend, type TrainResult } from '@lenet/core';
import { initWeights, type Weights } from '@lenet/model';
import { loadWeightsFile, saveWeightsFile } from '@lenet/model/node';
import { splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { describeError, CliError } from '../errors.js';
import { loadData } from '../data.js';
import { loadRegistry } from '../registry.js';
import { measureWindow } from './inference.js';
import type { ChildJob, ChildMessage, CurvePoint, LossPoint, ParentCommand, Phase, TrainWindow } from './types.js';

const STEP_MESSAGE_INTERVAL_MS = 250;
const LOSS_TRACE_POINTS = 200;
const EVAL_BATCH = 1000;

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

/** Commands from the parent, in order. */
class Inbox {
  private queue: ParentCommand[] = [];
  private waiting: ((c: ParentCommand) => void) | null = null;
  constructor() {
    process.on('message', (m) => {
      const c = m as ParentCommand;
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = null;
        w(c);
      } else this.queue.push(c);
    });
  }
  next(): Promise<ParentCommand> {
    const c = this.queue.shift();
    if (c) return Promise.resolve(c);
    return new Promise((resolve) => (this.waiting = resolve));
  }
}

interface CellState {
  job: ChildJob;
  backend: Backend;
  train: ImageSplit;
  test: ImageSplit;
  /** The stratified learning-curve subset of the test split. */
  evalSplit: ImageSplit;
  inference: BackendSession | null;
  x256: Float32Array | null;
}

async function init(job: ChildJob, enter: (p: Phase, detail?: string) => Promise<void>): Promise<CellState> {
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
  const info = await backend.info({ threads: job.threads ?? undefined });
  await send({
    type: 'info',
    info: { package: entry.packageName, description: backend.description, canTrain: canTrain(backend), runtime: info.runtime, versions: info.versions, threads: info.threads ?? job.threads },
  });
  await enter('data');
  const data = await loadData(job.dataset, { dataDir: job.dataDir, limit: job.limit ?? undefined, quiet: true });
  const evalSplit = job.evalImages >= data.test.count ? data.test : stratifiedSubset(data.test, job.evalImages, 0);
  return { job, backend, train: data.train, test: data.test, evalSplit, inference: null, x256: null };
}

/**
 * Trains the recipe in windows granted by the parent. Returns after the parent's 'finish' (or an
 * 'exit'), having saved the weights and sent 'training' and 'evaluation'.
 */
async function trainInWindows(s: CellState, backend: TrainingBackend, inbox: Inbox, enter: (p: Phase, detail?: string) => Promise<void>): Promise<'exit' | 'finished'> {
  const { job } = s;
  await enter('session');
  const session = await backend.createTrainingSession(job.spec, initWeights(job.spec, job.seed), { threads: job.threads ?? undefined, maxBatchSize: Math.max(job.batchSize, EVAL_BATCH) });
  try {
    await enter('train');
    const abort = new AbortController();
    let allowed = 0; // cumulative training seconds granted so far
    let elapsed = 0;
    let totalSteps = 0;
    let imagesTotal = 0;
    let imagesBeforeEpoch = 0;
    let round = 0;
    let windowStart: { steps: number; images: number; seconds: number } | null = null;
    let reachedTarget = false;
    /** Index of the window in which the curve first reached the target (-1: not yet). */
    let reachedInWindow = -1;
    let finishCmd: Extract<ParentCommand, { type: 'finish' }> | null = null;
    let exitAsked = false;
    const windows: TrainWindow[] = [];
    const curve: CurvePoint[] = [];
    const steps: { images: number; loss: number; epoch: number }[] = [];
    let lastSent = 0;

    const closeWindow = async (finished: 'target' | 'done' | null) => {
      if (!windowStart) return;
      const w: TrainWindow = { round, steps: totalSteps - windowStart.steps, images: imagesTotal - windowStart.images, seconds: elapsed - windowStart.seconds };
      windowStart = null;
      windows.push(w);
      await send({ type: 'slice', window: w, finished });
    };
    /** Waits for the next command while training is paused: a new window, or the end. */
    const awaitGrant = async () => {
      for (;;) {
        const c = await inbox.next();
        if (c.type === 'train') {
          allowed = elapsed + c.seconds;
          round = c.round;
          windowStart = { steps: totalSteps, images: imagesTotal, seconds: elapsed };
          return;
        }
        if (c.type === 'finish') {
          finishCmd = c;
          abort.abort();
          return;
        }
        if (c.type === 'exit') {
          exitAsked = true;
          abort.abort();
          return;
        }
      }
    };

    await awaitGrant();
    let result: TrainResult | null = null;
    if (!abort.signal.aborted) {
      result = await train({
        session,
        spec: job.spec,
        train: s.train,
        test: s.evalSplit,
        epochs: job.epochs,
        batchSize: job.batchSize,
        lr: job.lr,
        seed: job.seed,
        targetAccuracy: job.targetAccuracy,
        maxStepsPerEpoch: job.maxStepsPerEpoch ?? undefined,
        evalBatchSize: EVAL_BATCH,
        evalEverySteps: job.evalEverySteps ?? undefined,
        signal: abort.signal,
        beforeStep: async () => {
          // Stop at the target once the run has enough windows (job.minTrainWindows, counting the
          // open one): at once if it was reached in this window, else at this window's end, so
          // no window is cut short except the one in which the target was reached.
          const stopping = reachedTarget && job.stopAtTarget && windows.length + 1 >= job.minTrainWindows;
          if (stopping && reachedInWindow === windows.length) {
            await closeWindow('target');
            await awaitGrant();
            return;
          }
          if (elapsed < allowed) return;
          await closeWindow(stopping ? 'target' : null);
          await awaitGrant();
        },
        onStep: (p) => {
          elapsed = p.elapsedSeconds;
          totalSteps++;
          imagesTotal = imagesBeforeEpoch + p.images;
          steps.push({ images: imagesTotal, loss: p.loss, epoch: p.epoch });
          const now = performance.now();
          if (now - lastSent >= STEP_MESSAGE_INTERVAL_MS || p.step === p.stepsPerEpoch) {
            lastSent = now;
            void send({ type: 'step', progress: p });
          }
        },
        onEval: (p: EvalPoint) => {
          const point: CurvePoint = { epoch: p.epoch, steps: p.totalSteps, images: p.images, seconds: p.elapsedSeconds, accuracy: p.accuracy, loss: p.loss };
          curve.push(point);
          void send({ type: 'eval', point });
          if (p.accuracy >= job.targetAccuracy && !reachedTarget) {
            reachedTarget = true;
            reachedInWindow = windows.length;
          }
        },
        onEpoch: (m) => {
          imagesBeforeEpoch += m.images;
          void send({ type: 'epoch', metrics: m });
        },
      });
      // The recipe ended inside a window (or the target was reached at its last evaluation).
      if (windowStart) await closeWindow(reachedTarget && job.stopAtTarget ? 'target' : 'done');
      // Until the parent says finish/exit, answer every grant with an empty window so it moves on.
      while (!finishCmd && !exitAsked) {
        await awaitGrant();
        await closeWindow('done');
      }
    }
    if (exitAsked || !finishCmd) return 'exit';
    const finish = finishCmd as Extract<ParentCommand, { type: 'finish' }>;
    // Every curve ends where training ended (a budget can stop a slow backend before its first evaluation).
    if (totalSteps > 0 && curve.at(-1)?.steps !== totalSteps) {
      const ev = await evaluate(session, s.evalSplit, { batchSize: EVAL_BATCH });
      const point: CurvePoint = { epoch: Math.min(job.epochs, Math.floor(imagesTotal / s.train.count) + 1), steps: totalSteps, images: imagesTotal, seconds: elapsed, accuracy: ev.accuracy, loss: ev.loss };
      curve.push(point);
      await send({ type: 'eval', point });
    }

    await saveWeightsFile(job.weightsOut, await session.getWeights(), {
      spec: JSON.stringify(job.spec),
      backend: backend.name,
      dataset: job.dataset,
      seed: String(job.seed),
      steps: String(totalSteps),
      batchSize: String(job.batchSize),
      lr: String(job.lr),
    });
    const hit = curve.find((p) => p.accuracy >= job.targetAccuracy);
    const epochs = result?.epochs ?? [];
    const warm = windows.slice(1);
    const wImages = warm.reduce((a, w) => a + w.images, 0);
    const wSeconds = warm.reduce((a, w) => a + w.seconds, 0);
    const ips = wSeconds > 0 ? wImages / wSeconds : elapsed > 0 ? imagesTotal / elapsed : 0;
    const fullEpochs = epochs.filter((e) => !e.partial).length;
    const projected = fullEpochs < job.epochs;
    const epochSeconds = s.train.count / Math.max(ips, 1e-9);
    const stoppedBy = finish.reason === 'done' ? null : finish.reason;
    const reason =
      finish.reason === 'target'
        ? `stopped on reaching ${(job.targetAccuracy * 100).toFixed(0)}% on the learning-curve subset` +
          (reachedInWindow >= 0 && reachedInWindow < windows.length - 1 ? ` (reached in window ${reachedInWindow + 1}; trained on to ${windows.length} windows for throughput intervals)` : '')
        : finish.reason === 'budget'
          ? 'stopped by the time budget'
          : `the full recipe (${job.epochs} epoch${job.epochs > 1 ? 's' : ''})`;
    await send({
      type: 'training',
      skipped: null,
      training: {
        epochs,
        stoppedBy,
        budget: { maxSeconds: null, maxStepsPerEpoch: job.maxStepsPerEpoch, reason },
        totalSteps,
        trainSeconds: elapsed,
        imagesPerSecond: ips,
        epochSeconds,
        recipeSeconds: projected ? epochSeconds * job.epochs : elapsed,
        projected,
        timeToTarget: hit ? { accuracy: hit.accuracy, epoch: hit.epoch, seconds: hit.seconds } : null,
        lossTrace: lossTrace(steps),
        probe: null,
        weightsFile: job.weightsOut,
        windows,
        curve,
      },
    });

    await enter('evaluate');
    const full = finish.evalImages >= s.test.count;
    const lastIsFinal = result && result.finalEvaluation && !abort.signal.aborted && s.evalSplit === s.test;
    if (lastIsFinal) {
      await send({ type: 'evaluation', evaluation: { ...result!.finalEvaluation!, seconds: epochs.at(-1)?.evalSeconds ?? 0 } });
    } else {
      const split = full ? s.test : stratifiedSubset(s.test, finish.evalImages, 0);
      const t0 = performance.now();
      const ev = await evaluate(session, split, { batchSize: EVAL_BATCH });
      await send({ type: 'evaluation', evaluation: { ...ev, seconds: (performance.now() - t0) / 1000 } });
    }
    return 'finished';
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
  const inbox = new Inbox();
  let state: CellState | null = null;
  let backendName = '';
  const enter = async (p: Phase, detail?: string) => {
    phase = p;
    // The parent learns the phase first, so a crash in it is reported against the right phase.
    await send({ type: 'phase', phase: p, detail });
    testHook(backendName, p);
  };
  try {
    for (;;) {
      const c = await inbox.next();
      if (c.type === 'init') {
        backendName = c.job.backend;
        state = await init(c.job, enter);
        const trainer = canTrain(state.backend) ? state.backend : null;
        if (!trainer) await send({ type: 'training', training: null, skipped: `${state.backend.name} cannot train (inference only)` });
        else if (!c.job.train) await send({ type: 'training', training: null, skipped: 'trained in an earlier invocation (resume)' });
        await send({ type: 'ready' });
        if (trainer && c.job.train) {
          if ((await trainInWindows(state, trainer, inbox, enter)) === 'exit') break;
        }
      } else if (c.type === 'prepare') {
        if (!state) throw new Error('prepare before init');
        await enter('agreement');
        const weights: Weights = c.sharedWeights ? (await loadWeightsFile(c.sharedWeights, state.job.spec)).weights : initWeights(state.job.spec, state.job.seed);
        state.inference = await state.backend.createSession(state.job.spec, weights, { threads: state.job.threads ?? undefined, maxBatchSize: Math.max(c.maxBatchSize, EVAL_BATCH, c.agreementImages) });
        if (c.sharedWeights) {
          const n = Math.min(c.agreementImages, state.test.count);
          const logits = await state.inference.predict(splitToFloat(stratifiedSubset(state.test, n, 0)), n);
          await send({ type: 'agreement', logits: Array.from(logits), weightsFile: c.sharedWeights });
        }
        if (c.evaluate) {
          await enter('evaluate', 'shared weights');
          const split = c.evalImages >= state.test.count ? state.test : stratifiedSubset(state.test, c.evalImages, 0);
          const t0 = performance.now();
          const ev = await evaluate(state.inference, split, { batchSize: EVAL_BATCH });
          await send({ type: 'evaluation', evaluation: { ...ev, seconds: (performance.now() - t0) / 1000 } });
        }
        await enter('inference');
        state.x256 = images(state.test, c.maxBatchSize);
        await send({ type: 'prepared' });
      } else if (c.type === 'infer') {
        if (!state?.inference || !state.x256) throw new Error('infer before prepare');
        const px = state.test.rows * state.test.cols;
        const r = await measureWindow(state.inference, state.x256.subarray(0, c.batchSize * px), c.batchSize, c.seconds);
        await send({ type: 'window', window: { batchSize: c.batchSize, round: c.round, p50Ms: r.p50Ms, imagesPerSecond: r.p50Ms > 0 ? c.batchSize / (r.p50Ms / 1000) : 0, samples: r.samplesMs.length }, samplesMs: r.samplesMs });
      } else if (c.type === 'exit') {
        break;
      }
      // 'train'/'finish' outside training (e.g. after an early end) are ignored: the parent knows.
    }
    await state?.inference?.dispose();
    await send({ type: 'done', peakRssMB: peakRssMB() });
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', phase, message: describeError(err), peakRssMB: peakRssMB() });
    if (process.env.LENET_BENCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}

await main();
