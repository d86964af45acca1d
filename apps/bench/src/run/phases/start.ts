/**
 * Phase "start": every planned cell's process, started one after the other and given its job
 * (`init`, answered by `ready`). Node backends are forked (child.ts); the PyTorch reference is a
 * Python process on the same work (torch.ts). A cell resumed after its training keeps its row
 * and is only prepared and measured.
 */
import { mkdir } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jsonLine } from '../../format.js';
import { CellProcess } from '../cell-process.js';
import { emptyCell, parseCellId, TORCH_CELL, trainingDone } from '../cells.js';
import type { RunContext } from '../context.js';
import type { LiveCell as Live } from '../live-cell.js';
import { emit, failCell, say, TIMEOUT, type RunState } from '../state.js';
import { logFile, weightsFile } from '../store.js';
import { prepareTorchJob, pythonExecutable, TORCH_CHILD_SCRIPT } from '../torch.js';
import type { BackendResult, ChildJob, ChildMessage, InferenceWindow } from '../types.js';

export const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'child.js');

export async function startCells(s: RunState): Promise<void> {
  for (const id of s.todo) {
    if (s.interrupted) break;
    s.progress?.starting(id);
    const prior = s.cells.get(id);
    const l = await startCell(s.ctx, id, prior && trainingDone(prior) ? prior : null, (line) => say(s, line));
    s.live.push(l);
    emit(s, { type: 'cell-start', backend: id });
    try {
      await l.proc.request({ type: 'init', job: l.job }, ['ready'], TIMEOUT.init);
    } catch (err) {
      await failCell(s, l, err);
    }
  }
}

/** Forks (or spawns, for PyTorch) a cell's process and wires its messages into its row. */
async function startCell(ctx: RunContext, id: string, prior: BackendResult | null, say: (s: string) => void): Promise<Live> {
  const c = ctx.config;
  const parsed = parseCellId(id);
  const kind = parsed.backend === TORCH_CELL ? 'reference' : 'backend';
  const cell: BackendResult = prior ? { ...prior, inference: null, agreement: null } : emptyCell(id, kind);
  const job: ChildJob = {
    backend: parsed.backend,
    spec: c.modelSpec,
    dataset: c.dataset,
    dataDir: ctx.dataDir,
    limit: c.limit,
    seed: c.seed,
    epochs: c.epochs,
    batchSize: c.batchSize,
    lr: c.lr,
    targetAccuracy: c.targetAccuracy,
    threads: parsed.threads ?? c.threads,
    maxStepsPerEpoch: c.maxStepsPerEpoch,
    weightsOut: weightsFile(ctx.dir, id),
    train: !prior,
    evalEverySteps: c.evalEverySteps ?? null,
    evalImages: Math.min(c.evalImages ?? c.testCount, ctx.test.count),
    stopAtTarget: c.stopAtTarget ?? false,
    minTrainWindows: c.minTrainWindows ?? 1,
  };
  await mkdir(dirname(job.weightsOut), { recursive: true });
  await mkdir(dirname(logFile(ctx.dir, id)), { recursive: true });
  const l = {
    id,
    cell,
    t0: performance.now(),
    canTrain: true,
    trained: 0,
    images: 0,
    warmSeconds: 0,
    warmImages: 0,
    windows: 0,
    budget: c.trainSeconds,
    budgetReason: c.trainSeconds !== null ? `at most ${c.trainSeconds} s of training` : null,
    projectionChecked: false,
    reachedTarget: false,
    torchDir: null as string | null,
    inferWindows: [] as InferenceWindow[],
    samples: new Map<number, number[]>(),
    agreementLogits: null as { logits: number[]; weightsFile: string } | null,
    job,
  } as Live;
  const onMessage = (m: ChildMessage) => {
    switch (m.type) {
      case 'info':
        Object.assign(cell, { package: m.info.package, description: m.info.description, canTrain: m.info.canTrain, runtime: m.info.runtime, versions: m.info.versions, threads: m.info.threads ?? null });
        if (m.info.build !== undefined) cell.build = m.info.build;
        l.canTrain = m.info.canTrain;
        say(`${id}: ${m.info.runtime}`);
        break;
      case 'epoch':
        if (ctx.json) jsonLine({ type: 'epoch', backend: id, ...m.metrics });
        break;
      case 'eval':
        if (ctx.json) jsonLine({ type: 'eval', backend: id, ...m.point });
        break;
      case 'training':
        if (m.training) cell.training = { ...m.training, weightsFile: m.training.weightsFile ? relative(ctx.dir, m.training.weightsFile) : null };
        else if (!prior) cell.trainingSkipped = m.skipped;
        if (!m.training && m.skipped && !cell.training) cell.trainingSkipped = m.skipped;
        break;
      case 'evaluation':
        cell.evaluation = m.evaluation;
        break;
      case 'agreement':
        l.agreementLogits = { logits: m.logits, weightsFile: m.weightsFile };
        break;
      case 'done':
      case 'error':
        cell.peakRssMB = Math.max(cell.peakRssMB ?? 0, m.peakRssMB);
        break;
    }
  };
  if (prior?.training) {
    // Resumed after training: keep the trained row, only inference is left.
    l.canTrain = true;
  }
  if (kind === 'reference') {
    const prepared = await prepareTorchJob({ ...job, threads: job.threads ?? availableParallelism() }, ctx.train, ctx.test, c.agreementImages);
    l.torchDir = prepared.dir;
    l.proc = CellProcess.python(pythonExecutable(), ['-u', TORCH_CHILD_SCRIPT, 'run', prepared.jobFile], logFile(ctx.dir, id), id, onMessage, c.torchEnv);
  } else {
    l.proc = CellProcess.fork(CHILD_SCRIPT, logFile(ctx.dir, id), id, onMessage);
  }
  return l;
}
