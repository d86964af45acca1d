/**
 * `lenet-bench browser --train-steps N`: in-page training rows. After the inference run the
 * page is loaded afresh (onnxruntime-web fixes its thread count at its first session, and the
 * inference run used one thread) and every chosen page backend that can train runs
 * `window.lenetBench.train()` for a short budget from the seed's initial weights, with the
 * report's recipe (model preset, batch, lr, seed, train/test subsets). Each becomes a report row
 * "<id> training @ Chromium <version>": training throughput, the loss trace, the final loss and
 * the accuracy of the weights it reached (after N steps, so not comparable with full runs; the
 * training table says the budget), and the threads it ran with.
 */
import { PRESET_NAMES, getPreset, type ModelSpec } from '@lenet/model';
import type { EpochMetrics } from '@lenet/core';
import { CliError, UsageError } from '../errors.js';
import type { BackendResult, LossPoint, Report } from '../run/types.js';
import { browserRowBase, browserTag, replaceBrowserRows } from './merge.js';
import { checkBrowserTraining, familyOfPageBackend, type BrowserInfo, type BrowserRun, type BrowserTraining, type LenetBenchPage, type TrainRequest } from './types.js';

export interface TrainingPlan {
  steps: number;
  model: string;
  seed: number;
  batchSize: number;
  lr: number;
  /** Recipe epochs (to project the recipe time, as for Node rows). */
  recipeEpochs: number;
  trainLimit: number | null;
  testLimit: number | null;
  threads: number | null;
}

/** The page trains only presets (it builds the spec with getPreset): check the model is one. */
export function presetOf(spec: ModelSpec, what: string): string {
  const name = (PRESET_NAMES as readonly string[]).find((p) => JSON.stringify(getPreset(p)) === JSON.stringify(spec));
  if (!name) throw new UsageError(`--train-steps: the page trains only the presets ${PRESET_NAMES.join(', ')}, but ${what} is the custom model "${spec.name}"`);
  return name;
}

/** Step losses as LossPoints (images trained so far, mean loss), at most ~100 buckets. */
export function lossTrace(t: BrowserTraining): LossPoint[] {
  const { batchSize } = t.request;
  const perEpoch = t.epochs.length ? t.epochs.map((e) => e.steps) : [t.stepLosses.length];
  const points: { images: number; loss: number; epoch: number }[] = [];
  let k = 0;
  let images = 0;
  perEpoch.forEach((steps, e) => {
    for (let s = 0; s < steps && k < t.stepLosses.length; s++, k++) {
      images += Math.min(batchSize, t.trainCount - s * batchSize);
      points.push({ images, loss: t.stepLosses[k]!, epoch: e + 1 });
    }
  });
  const size = Math.max(1, Math.ceil(points.length / 100));
  const out: LossPoint[] = [];
  for (let i = 0; i < points.length; i += size) {
    const b = points.slice(i, i + size);
    out.push({ images: b.at(-1)!.images, loss: b.reduce((a, p) => a + p.loss, 0) / b.length, epoch: b.at(-1)!.epoch });
  }
  return out;
}

export function trainingRowName(id: string, browser: BrowserInfo): string {
  return `${id} training @ ${browserTag(browser)}`;
}

export function toTrainingRow(t: BrowserTraining, plan: TrainingPlan, browser: BrowserInfo, isolated: boolean): BackendResult {
  const ok = t.status === 'ok';
  const epochImages = t.epochs.reduce((a, e) => a + e.images, 0);
  // One full epoch of the train subset at the measured rate (projected: N steps are a sample).
  const epochSeconds = t.imagesPerSecond > 0 ? t.trainCount / t.imagesPerSecond : 0;
  const last = t.epochs.at(-1);
  return {
    ...browserRowBase(t, trainingRowName(t.id, browser), browser, isolated, true),
    training: ok
      ? {
          epochs: t.epochs,
          stoppedBy: t.stoppedBy === 'budget' ? 'budget' : null,
          budget: { maxSeconds: null, maxStepsPerEpoch: plan.steps, reason: `browser: ${plan.steps} training steps (--train-steps)` },
          totalSteps: t.totalSteps,
          trainSeconds: t.trainSeconds,
          imagesPerSecond: t.imagesPerSecond,
          epochSeconds,
          recipeSeconds: epochSeconds * plan.recipeEpochs,
          projected: epochImages < t.trainCount * plan.recipeEpochs,
          timeToTarget: null,
          lossTrace: lossTrace(t),
          probe: null,
          weightsFile: null,
        }
      : null,
    trainingSkipped: null,
    evaluation: ok && t.finalEvaluation ? { ...t.finalEvaluation, seconds: last?.evalSeconds ?? 0 } : null,
    inference: null,
    peakRssMB: null,
    agreement: null,
    error: ok ? null : { phase: t.phase ?? 'train', message: t.reason ?? 'failed' },
  };
}

function trainingNote(plan: TrainingPlan, browser: BrowserInfo, trainings: BrowserTraining[]): string {
  const ran = trainings.filter((t) => t.status === 'ok').map((t) => `${t.id} (${t.threads ?? '?'} thread${t.threads === 1 ? '' : 's'})`);
  const first = trainings.find((t) => t.status === 'ok');
  return (
    `browser training (${browserTag(browser)}): ${ran.length ? ran.join(', ') : 'no backend'} trained ${plan.model} in the page for ${plan.steps} step(s) ` +
    `from initWeights(seed ${plan.seed}) in the seed's batch order (batch ${plan.batchSize}, lr ${plan.lr}) on ` +
    `${first ? `${first.trainCount.toLocaleString('en-US')} train / ${first.testCount.toLocaleString('en-US')} test images` : 'the train split'}; ` +
    `accuracy is after those steps only, and epoch/recipe times are projected from the measured img/s`
  );
}

/** Adds (or replaces, for the same browser version) the training rows in `report`. */
export function mergeTrainingRows(report: Report, trainings: BrowserTraining[], plan: TrainingPlan, browser: BrowserInfo, isolated: boolean): Report {
  const tag = browserTag(browser);
  const mine = (name: string) => name.endsWith(` training @ ${tag}`);
  const rows = trainings.filter((t) => t.status !== 'unavailable').map((t) => toTrainingRow(t, plan, browser, isolated));
  const unavailable = trainings.filter((t) => t.status === 'unavailable').map((t) => `browser training (${tag}): ${t.id} cannot train here: ${t.reason}`);
  return replaceBrowserRows(report, rows, mine, `browser training (${tag})`, [trainingNote(plan, browser, trainings), ...unavailable]);
}

/** The request the page gets for one backend. */
export function pageRequest(id: string, plan: TrainingPlan): TrainRequest {
  return {
    backend: id,
    model: plan.model,
    seed: plan.seed,
    epochs: 1,
    batchSize: plan.batchSize,
    lr: plan.lr,
    trainLimit: plan.trainLimit,
    testLimit: plan.testLimit,
    maxStepsPerEpoch: plan.steps,
    evalEverySteps: null,
    threads: plan.threads,
    trainAccImages: 0,
  };
}

/**
 * Reloads the page (a fresh onnxruntime-web, whose thread count is fixed at its first session)
 * and trains each of `ids` that the page can train (all trainable ones when null); ids that
 * exist but cannot train come back as "unavailable" with the reason, as do those in `skipped`
 * (id → reason: GPU backends the inference run skipped on a software adapter).
 */
export async function trainInPage(
  page: import('playwright-core').Page,
  ids: string[] | null,
  plan: TrainingPlan,
  onStatus?: (t: string) => void,
  skipped: ReadonlyMap<string, string> = new Map(),
): Promise<BrowserTraining[]> {
  await page.goto(page.url());
  await page.evaluate(() => (window as unknown as { lenetBench: LenetBenchPage }).lenetBench.ready);
  const trainable = await page.evaluate(() => (window as unknown as { lenetBench: LenetBenchPage }).lenetBench.trainableIds);
  const out: BrowserTraining[] = [];
  for (const id of ids ?? trainable) {
    if (!trainable.includes(id)) {
      out.push({ ...emptyTraining(id, pageRequest(id, plan)), status: 'unavailable', reason: `${id} is inference-only in the page (its backend has no trainStep)` });
      continue;
    }
    const skip = skipped.get(id);
    if (skip) {
      out.push({ ...emptyTraining(id, pageRequest(id, plan)), status: 'unavailable', reason: skip });
      continue;
    }
    onStatus?.(`training ${id} for ${plan.steps} steps…`);
    const raw = await page.evaluate((r) => (window as unknown as { lenetBench: LenetBenchPage }).lenetBench.train(r), pageRequest(id, plan));
    out.push(checkBrowserTraining(raw, id));
  }
  return out;
}

/** GPU backends the inference run skipped on a software adapter (skipSoftwareGpu), with the reason. */
export function skippedSoftwareGpu(run: BrowserRun): Map<string, string> {
  return new Map(run.results.filter((r) => r.status === 'unavailable' && r.softwareFallback).map((r) => [r.id, r.reason ?? 'software fallback adapter']));
}

function emptyTraining(id: string, request: TrainRequest): BrowserTraining {
  const family = familyOfPageBackend(id);
  if (!family) throw new CliError(`the page has no backend "${id}"`);
  return {
    id, family, backend: id, package: '', where: 'main thread', status: 'unavailable', reason: null, phase: null, description: '', runtime: null, versions: {}, threads: null,
    startedAt: new Date().toISOString(), wallSeconds: 0, request, dataset: '', trainCount: 0, testCount: 0, stepLosses: [], epochs: [], curve: [], totalSteps: 0, trainSeconds: 0, imagesPerSecond: 0,
    stoppedBy: null, finalEvaluation: null, batchesPerEpoch: 0,
  };
}
