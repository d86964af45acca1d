import { BackendInputError, describeOptimizer, train, type EpochMetrics, type OptimizerOptions, type TrainingBackend, type TrainingOptions, type TrainingSession } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { UsageError } from '../errors.js';
import { initWeights } from '@lenet/model';
import { saveWeightsFile } from '@lenet/model/node';
import { loadWeightsArg, modelFromArg } from '../weights.js';
import type { DatasetName } from '@lenet/datasets';
import { describeSource, loadData, sourceJson } from '../data.js';
import { checkOutputFile } from '../safety/outputs.js';
import { installSignalHandlers, onStopSignal } from '../safety/signals.js';
import { duration, fixed, int, jsonLine, pct, table } from '../format.js';
import { userPath } from '../paths.js';
import { createProgress, progressMode } from '../progress.js';
import { getUsableBackend } from '../registry.js';

export interface TrainCommandOptions {
  backend: string;
  model: string;
  dataset: DatasetName;
  dataDir?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  /** SGD momentum in [0, 1); 0 = plain SGD. */
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  seed: number;
  threads?: number;
  limit?: number;
  init?: string;
  out?: string;
  targetAccuracy?: number;
  maxSeconds?: number;
  json?: boolean;
}

export async function trainCommand(opts: TrainCommandOptions): Promise<void> {
  // Ctrl-C before training starts exits 130 at once; SIGTERM always exits 143.
  installSignalHandlers();
  const spec = await modelFromArg(opts.model);
  const backend = await getUsableBackend(opts.backend, true);
  // Check where the weights go before anything is trained: a bad --out must not cost the training.
  const out = checkOutputFile(userPath(opts.out ?? `runs/${spec.name}-${opts.dataset}-${backend.name}-seed${opts.seed}.safetensors`), opts.out ? '--out' : null);
  const data = await loadData(opts.dataset, { dataDir: opts.dataDir, limit: opts.limit, quiet: opts.json });
  const initial = opts.init ? (await loadWeightsArg(opts.init, opts.model, { modelMustMatch: false })).weights : initWeights(spec, opts.seed);

  const optimizer = optimizerFromFlags(opts);
  const session = await createTrainingSessionFor(backend, spec, initial, { threads: opts.threads, maxBatchSize: Math.max(opts.batchSize, 1000), optimizer });
  const info = await backend.info({ threads: opts.threads });
  const log = (s: string) => !opts.json && process.stderr.write(s + '\n');
  log(
    `training ${spec.name} on ${opts.dataset} (${int(data.train.count)} train / ${int(data.test.count)} test images from ${describeSource(data.source)}) ` +
      `with ${backend.name} [${info.runtime}]: ${opts.epochs} epochs, batch ${opts.batchSize}, ${describeOptimizer(optimizer)} lr ${opts.lr}, seed ${opts.seed}`,
  );
  // Single-threaded backends accept --threads (a bad value is still an error) but cannot use it: say so.
  if (opts.threads !== undefined && info.threads !== undefined && info.threads < opts.threads) {
    log(`note: ${backend.name} trains on ${info.threads} thread${info.threads === 1 ? '' : 's'}; --threads ${opts.threads} does not apply to it`);
  }

  // Ctrl-C: finish the current step, keep finished epochs, save the weights, exit 130.
  const controller = new AbortController();
  const onSigint = () => {
    log('\ninterrupted: stopping after the current step (Ctrl-C again to quit at once)');
    controller.abort();
  };
  const offStop = onStopSignal({ graceful: onSigint });

  const progress = createProgress(backend.name, progressMode(!!opts.json));
  const rows: EpochMetrics[] = [];
  try {
    const result = await train({
      session,
      spec,
      train: data.train,
      test: data.test,
      epochs: opts.epochs,
      batchSize: opts.batchSize,
      lr: opts.lr,
      seed: opts.seed,
      targetAccuracy: opts.targetAccuracy,
      maxSeconds: opts.maxSeconds,
      signal: controller.signal,
      onStep: (p) => progress.step(p),
      onEpoch: (m) => {
        progress.pause();
        rows.push(m);
        if (opts.json) jsonLine({ type: 'epoch', backend: backend.name, model: spec.name, dataset: opts.dataset, ...m });
        else
          log(
            `epoch ${m.epoch}${m.partial ? ' (partial)' : ''}: train loss ${fixed(m.trainLoss)}  val loss ${fixed(m.valLoss)}  ` +
              `val acc ${pct(m.valAccuracy)}  ${duration(m.seconds)}  ${int(m.imagesPerSecond)} img/s`,
          );
      },
    });
    progress.stop();
    const weights = await session.getWeights();
    const last = result.epochs.at(-1);
    await saveWeightsFile(out, weights, {
      spec: JSON.stringify(spec),
      backend: backend.name,
      dataset: opts.dataset,
      dataSource: `${data.source.kind} ${data.source.dir}`,
      seed: String(opts.seed),
      epochs: String(result.epochs.length),
      batchSize: String(opts.batchSize),
      lr: String(opts.lr),
      optimizer: JSON.stringify(optimizerJson(optimizer)),
      ...(last ? { valAccuracy: String(last.valAccuracy) } : {}),
    });
    if (opts.json) {
      jsonLine({ type: 'result', backend: backend.name, model: spec.name, dataset: opts.dataset, dataSource: sourceJson(data.source), weights: out, lr: opts.lr, optimizer: optimizerJson(optimizer), timeToTarget: result.timeToTarget ?? null, stoppedBy: result.stoppedBy ?? null, finalValAccuracy: last?.valAccuracy ?? null });
    } else {
      process.stdout.write(
        table(
          ['epoch', 'train loss', 'val loss', 'val acc', 'seconds', 'img/s'],
          rows.map((m) => [String(m.epoch) + (m.partial ? '*' : ''), fixed(m.trainLoss), fixed(m.valLoss), pct(m.valAccuracy), m.seconds.toFixed(1), int(m.imagesPerSecond)]),
        ) + '\n',
      );
      if (result.timeToTarget) {
        process.stdout.write(`reached ${pct(result.timeToTarget.accuracy)} at epoch ${result.timeToTarget.epoch} after ${duration(result.timeToTarget.seconds)} of training\n`);
      }
      if (result.stoppedBy) process.stdout.write(`stopped early (${result.stoppedBy}); finished epochs are kept\n`);
      process.stdout.write(`weights saved to ${out}\n`);
    }
    if (result.stoppedBy === 'signal') process.exitCode = 130;
  } finally {
    progress.stop();
    offStop();
    await session.dispose();
  }
}

/** --momentum / --weight-decay / --nesterov as TrainingOptions.optimizer (undefined: plain SGD). */
export function optimizerFromFlags(opts: { momentum?: number; weightDecay?: number; nesterov?: boolean }): OptimizerOptions | undefined {
  const momentum = opts.momentum ?? 0;
  const weightDecay = opts.weightDecay ?? 0;
  const nesterov = opts.nesterov ?? false;
  if (nesterov && momentum === 0) throw new UsageError('--nesterov needs --momentum > 0 (e.g. --momentum 0.9)');
  if (momentum === 0 && weightDecay === 0) return undefined;
  return { momentum, weightDecay, nesterov };
}

/** The optimizer as the JSON output and the weights' metadata record it (defaults spelled out). */
export function optimizerJson(optimizer: OptimizerOptions | undefined): { name: 'sgd'; momentum: number; weightDecay: number; nesterov: boolean } {
  return { name: 'sgd', momentum: optimizer?.momentum ?? 0, weightDecay: optimizer?.weightDecay ?? 0, nesterov: optimizer?.nesterov ?? false };
}

/**
 * createTrainingSession, with a backend's refusal of the optimizer reported as a usage error
 * naming the flags (the flags are fine; this backend cannot apply them).
 */
export async function createTrainingSessionFor(
  backend: TrainingBackend,
  spec: ModelSpec,
  weights: Weights,
  options: TrainingOptions,
): Promise<TrainingSession> {
  try {
    return await backend.createTrainingSession(spec, weights, options);
  } catch (e) {
    if (options.optimizer && e instanceof BackendInputError && /momentum or weight decay/.test(e.message)) {
      throw new UsageError(`--momentum/--weight-decay: ${e.message}`);
    }
    throw e;
  }
}
