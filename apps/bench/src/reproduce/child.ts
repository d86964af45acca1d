/**
 * One (backend, seed) run of `lenet-bench reproduce`, in its own process (forked by the parent,
 * one job over IPC), like the `run` harness's cells: a crash or kill here loses only this run.
 * Trains the recipe with @lenet/core's train (lr schedule and seeded augmentation as hooks),
 * saves the final weights, and reports every epoch to the parent as it finishes.
 */
import { canTrain, train, type EpochMetrics } from '@lenet/core';
import { initWeights } from '@lenet/model';
import { saveWeightsFile } from '@lenet/model/node';
import { BatchAugmenter } from '@lenet/datasets';
import { describeError, CliError } from '../errors.js';
import { loadRegistry } from '../registry.js';
import { loadRecipeData } from './data.js';
import { getRecipe, lrAt, withOverrides } from './recipes.js';
import type { ReproduceJob, ReproduceMessage } from './types.js';

function send(message: ReproduceMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

let phase = 'start';
const epochs: EpochMetrics[] = [];

async function runJob(job: ReproduceJob): Promise<void> {
  const recipe = withOverrides(getRecipe(job.recipe), job.overrides ?? {});
  const registry = await loadRegistry();
  const entry = registry.entries.find((e) => e.backend.name === job.backend);
  if (!entry) throw new CliError(`unknown backend "${job.backend}"`);
  const { backend } = entry;
  const ok = await backend.available();
  if (ok !== true) throw new CliError(`backend "${backend.name}" is not available here: ${ok}`);
  if (!canTrain(backend)) throw new CliError(`backend "${backend.name}" cannot train (inference only)`);
  const threads = job.threads ?? undefined;
  const info = await backend.info({ threads });
  await send({ type: 'info', runtime: info.runtime, versions: info.versions });

  phase = 'data';
  const data = await loadRecipeData(recipe, { dataDir: job.dataDir, limit: job.limit, validation: !!job.validation });
  const spec = recipe.model();
  phase = 'session';
  const session = await backend.createTrainingSession(spec, initWeights(spec, job.seed), {
    threads,
    maxBatchSize: Math.max(recipe.batchSize, 1000),
    ...(recipe.optimizer ? { optimizer: recipe.optimizer } : {}),
  });
  try {
    phase = 'train';
    const augmenter = recipe.augment ? new BatchAugmenter(recipe.augment, job.seed, data.train.rows, data.train.cols) : null;
    let lastStep = 0;
    const result = await train({
      session,
      spec,
      train: data.train,
      test: data.evaluate,
      epochs: job.epochs,
      batchSize: recipe.batchSize,
      lr: recipe.schedule.kind === 'constant' ? recipe.schedule.lr : undefined,
      lrSchedule: recipe.schedule.kind === 'constant' ? undefined : (at) => lrAt(recipe.schedule, at, job.epochs),
      augment: augmenter ? (b) => augmenter.apply(b.x, b.n, b.epoch - 1) : undefined,
      seed: job.seed,
      onStep: (p) => {
        const now = performance.now();
        if (now - lastStep >= 500 || p.step === p.stepsPerEpoch) {
          lastStep = now;
          void send({ type: 'step', epoch: p.epoch, step: p.step, stepsPerEpoch: p.stepsPerEpoch, loss: p.loss });
        }
      },
      onEpoch: (m) => {
        epochs.push(m);
        void send({ type: 'epoch', metrics: m });
      },
    });
    phase = 'save';
    await saveWeightsFile(job.weightsOut, await session.getWeights(), {
      spec: JSON.stringify(spec),
      backend: backend.name,
      dataset: recipe.dataset,
      recipe: recipe.name,
      seed: String(job.seed),
      epochs: String(result.epochs.length),
      batchSize: String(recipe.batchSize),
      optimizer: JSON.stringify(recipe.optimizer ?? null),
      evaluatedOn: JSON.stringify(data.evaluation),
      ...(result.epochs.length ? { valAccuracy: String(result.epochs.at(-1)!.valAccuracy) } : {}),
    });
    const totalImages = result.epochs.reduce((a, e) => a + e.images, 0);
    await send({ type: 'done', epochs: result.epochs, trainSeconds: result.trainSeconds, totalImages });
  } finally {
    await session.dispose();
  }
}

async function main(): Promise<void> {
  process.on('SIGINT', () => {}); // the parent decides what Ctrl-C does
  process.on('disconnect', () => process.exit(1));
  const job = await new Promise<ReproduceJob>((resolve) => process.once('message', (m) => resolve(m as ReproduceJob)));
  try {
    await runJob(job);
    process.exit(0);
  } catch (err) {
    await send({ type: 'error', phase, message: describeError(err), epochs });
    if (process.env.LENET_BENCH_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
}

await main();
