/**
 * One in-page training run on one backend, shared by the main thread (ort-web, TF.js) and the
 * training Web Worker (plain): @lenet/core's `train` (the loop `lenet-bench train` runs) from
 * `initWeights(spec, seed)` over the Batcher order of `seed`, so the weights, batches and hence
 * step losses are the CLI's. It streams progress and d2l's curve points through `emit`, stops
 * after the current step when `signal` aborts, and always returns the weights it reached.
 */
import type { Backend, EvalPoint, TrainingSession } from '@lenet/core';
import { canTrain, evaluate, train } from '@lenet/core';
import { stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { getPreset, initWeights, type Weights } from '@lenet/model';
import type { BackendFamily, BrowserTraining, TrainCurvePoint, TrainEvent, TrainRequest } from './types.js';

export interface TrainInput {
  id: string;
  family: BackendFamily;
  package: string;
  where: BrowserTraining['where'];
  backend: Backend;
  request: TrainRequest;
  dataset: string;
  /** The train split, already cut to request.trainLimit. */
  train: ImageSplit;
  /** The test split, already cut to request.testLimit. */
  test: ImageSplit;
  versions: Record<string, string>;
}

/** Progress messages at most this often (a step can take 1 ms; rendering each would cost more). */
const STEP_EVENT_MS = 100;

function message(e: unknown): string {
  return e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
}

export async function trainOnBackend(input: TrainInput, emit: (e: TrainEvent) => void, signal: AbortSignal): Promise<{ result: BrowserTraining; weights: Weights | null }> {
  const { request: req, backend } = input;
  const t0 = performance.now();
  const result: BrowserTraining = {
    id: input.id,
    family: input.family,
    backend: backend.name,
    package: input.package,
    where: input.where,
    status: 'ok',
    reason: null,
    phase: null,
    description: backend.description,
    runtime: null,
    versions: { ...input.versions },
    threads: null,
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    request: req,
    dataset: input.dataset,
    trainCount: input.train.count,
    testCount: input.test.count,
    stepLosses: [],
    epochs: [],
    curve: [],
    totalSteps: 0,
    trainSeconds: 0,
    imagesPerSecond: 0,
    stoppedBy: null,
    finalEvaluation: null,
    batchesPerEpoch: Math.ceil(input.train.count / req.batchSize),
  };
  let weights: Weights | null = null;
  let phase = 'available';
  let session: TrainingSession | null = null;
  try {
    const available = await backend.available();
    if (available !== true) {
      result.status = 'unavailable';
      result.reason = available;
      return { result, weights };
    }
    if (!canTrain(backend)) {
      result.status = 'unavailable';
      result.reason = `${backend.name} is inference-only here (it has no createTrainingSession)`;
      return { result, weights };
    }
    phase = 'info';
    const options = { ...(req.threads !== null ? { threads: req.threads } : {}), maxBatchSize: Math.max(req.batchSize, 1000) };
    const info = await backend.info(options);
    result.runtime = info.runtime;
    Object.assign(result.versions, info.versions);
    result.threads = info.threads ?? null;
    phase = 'session';
    const spec = getPreset(req.model);
    session = await backend.createTrainingSession(spec, initWeights(spec, req.seed), options);
    phase = 'train';
    const trainAcc = req.trainAccImages > 0 ? stratifiedSubset(input.train, Math.min(req.trainAccImages, input.train.count), 0) : null;
    const stepsPerEpoch = Math.min(result.batchesPerEpoch, req.maxStepsPerEpoch ?? Infinity);
    const plannedSteps = stepsPerEpoch * req.epochs;
    let epochLoss = 0;
    let epochImages = 0;
    let epochOf = 0;
    let lastEvent = 0;
    let totalSteps = 0;
    let imagesTotal = 0;
    // Test accuracy arrives in onEval (synchronous); the train-subset accuracy of the same
    // weights is measured before the next step (beforeStep is awaited and untimed) or at the end.
    let pending: TrainCurvePoint | null = null;
    const s = session;
    const flush = async () => {
      if (!pending) return;
      const p = pending;
      pending = null;
      if (trainAcc) p.trainAccuracy = (await evaluate(s, trainAcc)).accuracy;
      result.curve.push(p);
      emit({ type: 'point', point: p });
    };
    emit({ type: 'status', text: `training ${spec.name} on ${input.id}: ${input.train.count} train / ${input.test.count} test images, ${plannedSteps} steps` });
    const run = await train({
      session,
      spec,
      train: input.train,
      test: input.test,
      epochs: req.epochs,
      batchSize: req.batchSize,
      lr: req.lr,
      seed: req.seed,
      signal,
      ...(req.maxStepsPerEpoch !== null ? { maxStepsPerEpoch: req.maxStepsPerEpoch } : {}),
      ...(req.evalEverySteps !== null ? { evalEverySteps: req.evalEverySteps } : {}),
      beforeStep: flush,
      onStep: (p) => {
        if (p.epoch !== epochOf) {
          epochOf = p.epoch;
          epochLoss = 0;
          epochImages = 0;
        }
        result.stepLosses.push(p.loss);
        totalSteps++;
        const n = p.images - epochImages;
        imagesTotal += n;
        epochLoss += p.loss * n;
        epochImages = p.images;
        const now = performance.now();
        if (now - lastEvent >= STEP_EVENT_MS || totalSteps === plannedSteps) {
          lastEvent = now;
          emit({ type: 'step', progress: p, totalSteps, plannedSteps });
        }
      },
      onEval: (e: EvalPoint) => {
        pending = {
          x: e.epoch - 1 + e.step / stepsPerEpoch,
          epoch: e.epoch,
          totalSteps: e.totalSteps,
          trainLoss: epochImages > 0 ? epochLoss / epochImages : NaN,
          trainAccuracy: null,
          testAccuracy: e.accuracy,
          testLoss: e.loss,
          endOfEpoch: e.endOfEpoch,
        };
      },
      onEpoch: (m) => emit({ type: 'epoch', metrics: m }),
    });
    await flush();
    result.epochs = run.epochs;
    result.totalSteps = run.totalSteps;
    result.trainSeconds = run.trainSeconds;
    result.imagesPerSecond = run.trainSeconds > 0 ? imagesTotal / run.trainSeconds : 0;
    result.stoppedBy = run.stoppedBy ?? (result.epochs.some((e) => e.partial) ? 'budget' : null);
    phase = 'evaluate';
    // A stop mid-epoch leaves the last weights unevaluated: evaluate them, so the page shows
    // the accuracy of exactly the weights it offers for download.
    const last = run.stoppedBy === 'signal' && run.stoppedAt && result.epochs.at(-1)?.epoch !== run.stoppedAt.epoch ? null : run.finalEvaluation;
    const final = last ?? (await evaluate(session, input.test));
    result.finalEvaluation = { count: final.count, accuracy: final.accuracy, loss: final.loss, confusion: final.confusion };
    phase = 'weights';
    weights = await session.getWeights();
  } catch (e) {
    result.status = 'error';
    result.phase = phase;
    result.reason = message(e);
    // Whatever was trained before the failure is still worth keeping.
    if (session && phase === 'train') weights = await session.getWeights().catch(() => null);
  } finally {
    await session?.dispose().catch(() => undefined);
    result.wallSeconds = (performance.now() - t0) / 1000;
  }
  return { result, weights };
}
