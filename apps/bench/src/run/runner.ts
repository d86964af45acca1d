/**
 * `lenet-bench run`: one cell per backend (plus the optional PyTorch reference), each in its own
 * process, run one after the other on identical work. After every cell: the cell file is written
 * atomically, then report.json/md/html are regenerated, so a crash, a kill or Ctrl-C never loses
 * finished cells and `--resume DIR` continues where the run stopped.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { argmax, referenceForward, type StepProgress } from '@lenet/core';
import { numClasses, type ModelSpec } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { createProgress, type ProgressReporter } from '../progress.js';
import { duration, fixed, int, jsonLine, pct } from '../format.js';
import { renderAll } from '../report/render.js';
import { validateReport } from '../report/schema.js';
import { onStopSignal } from '../safety/signals.js';
import { cleanupTorchJob, prepareTorchJob, spawnTorch } from './torch.js';
import { cellFile, logFile, readCells, weightsFile, writeCell, writeFileAtomic } from './store.js';
import type { AgreementInfo, AgreementResult, BackendResult, ChildJob, ChildMessage, Environment, Phase, Report, RunConfig } from './types.js';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from './types.js';

export const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'child.js');
export const TORCH_CELL = 'pytorch';

export interface RunContext {
  dir: string;
  config: RunConfig;
  environment: Environment;
  tool: { name: string; version: string };
  createdAt: string;
  /** Wall seconds of earlier invocations (resume). */
  priorWallSeconds: number;
  notes: string[];
  train: ImageSplit;
  test: ImageSplit;
  dataDir?: string;
  json: boolean;
  progress: 'tty' | 'lines' | 'off';
  /** Per-cell wall-clock limit; a cell that exceeds it is killed and gets an error row. */
  cellTimeoutSeconds: number;
}

interface AgreementReference {
  info: AgreementInfo;
  logits: Float64Array;
  predictions: Int32Array;
}

const AGREEMENT_DIR = 'agreement';

function emptyCell(backend: string, kind: BackendResult['kind']): BackendResult {
  return {
    backend,
    kind,
    status: 'ok',
    package: null,
    description: null,
    canTrain: null,
    runtime: null,
    versions: {},
    threads: null,
    startedAt: new Date().toISOString(),
    wallSeconds: 0,
    training: null,
    trainingSkipped: null,
    evaluation: null,
    inference: null,
    peakRssMB: null,
    agreement: null,
    error: null,
  };
}

/** Float64 reference logits of the shared weights on the fixed agreement subset (computed once, saved). */
async function computeAgreementReference(ctx: RunContext, sourceFile: string, source: string): Promise<AgreementReference> {
  const dir = join(ctx.dir, AGREEMENT_DIR);
  await mkdir(dir, { recursive: true });
  const shared = join(dir, 'weights.safetensors');
  await copyFile(sourceFile, shared);
  const { weights } = await loadWeightsFile(shared, ctx.config.modelSpec);
  const n = Math.min(ctx.config.agreementImages, ctx.test.count);
  const subset = stratifiedSubset(ctx.test, n, 0);
  const t0 = performance.now();
  const logits = referenceForward(ctx.config.modelSpec, weights, splitToFloat(subset), n);
  const info: AgreementInfo = { weightsFile: relative(ctx.dir, shared), source, images: n, referenceSeconds: (performance.now() - t0) / 1000 };
  await writeFileAtomic(join(dir, 'reference.json'), JSON.stringify({ ...info, logits: Array.from(logits) }) + '\n');
  return withPredictions(ctx.config.modelSpec, info, logits);
}

function withPredictions(spec: ModelSpec, info: AgreementInfo, logits: Float64Array): AgreementReference {
  const classes = numClasses(spec);
  const predictions = new Int32Array(info.images);
  for (let i = 0; i < info.images; i++) predictions[i] = argmax(logits, i * classes, classes);
  return { info, logits, predictions };
}

async function loadAgreementReference(ctx: RunContext): Promise<AgreementReference | null> {
  const file = join(ctx.dir, AGREEMENT_DIR, 'reference.json');
  if (!existsSync(file)) return null;
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as AgreementInfo & { logits: number[] };
    const { logits, ...info } = saved;
    if (logits.length !== info.images * numClasses(ctx.config.modelSpec)) return null;
    return withPredictions(ctx.config.modelSpec, info, Float64Array.from(logits));
  } catch {
    return null; // recomputed from the next trained weights
  }
}

export function compareLogits(ref: AgreementReference, logits: ArrayLike<number>, classes: number): AgreementResult {
  const n = ref.info.images;
  if (logits.length !== n * classes) throw new Error(`agreement: got ${logits.length} logits, expected ${n * classes} (${n} images x ${classes} classes)`);
  let max = 0;
  let sum = 0;
  let finite = true;
  let identical = 0;
  for (let i = 0; i < n * classes; i++) {
    const d = Math.abs(logits[i]! - ref.logits[i]!);
    if (!Number.isFinite(d)) finite = false;
    else {
      if (d > max) max = d;
      sum += d;
    }
  }
  for (let i = 0; i < n; i++) if (argmax(logits, i * classes, classes) === ref.predictions[i]) identical++;
  return {
    images: n,
    maxAbsLogitDiff: finite ? max : null,
    meanAbsLogitDiff: finite ? sum / (n * classes) : null,
    identicalPredictions: identical / n,
    identicalCount: identical,
  };
}

/** Assembles, validates and writes report.json, report.md and report.html. */
export async function writeReport(ctx: RunContext, cells: Map<string, BackendResult>, agreement: AgreementInfo | null, status: Report['status'], startedAt: number): Promise<Report> {
  const results = ctx.config.backends.filter((b) => cells.has(b)).map((b) => cells.get(b)!);
  const report: Report = {
    schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: ctx.tool,
    status,
    createdAt: ctx.createdAt,
    updatedAt: new Date().toISOString(),
    wallSeconds: ctx.priorWallSeconds + (performance.now() - startedAt) / 1000,
    environment: ctx.environment,
    config: ctx.config,
    agreement,
    results,
    pending: ctx.config.backends.filter((b) => !cells.has(b)),
    errors: results.filter((r) => r.error).map((r) => ({ backend: r.backend, phase: r.error!.phase, message: r.error!.message })),
    notes: ctx.notes,
  };
  // Round-trip through JSON first: NaN/Infinity become null exactly as in the file.
  const plain = JSON.parse(JSON.stringify(report)) as unknown;
  validateReport(plain, join(ctx.dir, 'report.json'));
  await writeFileAtomic(join(ctx.dir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
  await renderAll(ctx.dir, plain as Report);
  return plain as Report;
}

interface CellProcess {
  kill(): void;
  /** Resolves when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs one cell in its own process and folds its messages into a BackendResult. */
async function runCell(
  ctx: RunContext,
  backend: string,
  agreementRef: () => AgreementReference | null,
  onProcess: (p: CellProcess) => void,
  label: string,
): Promise<{ cell: BackendResult; killedByUs: boolean }> {
  const kind = backend === TORCH_CELL ? 'reference' : 'backend';
  const cell = emptyCell(backend, kind);
  const t0 = performance.now();
  const c = ctx.config;
  const ref = agreementRef();
  const job: ChildJob = {
    backend,
    spec: c.modelSpec,
    dataset: c.dataset,
    dataDir: ctx.dataDir,
    limit: c.limit,
    seed: c.seed,
    epochs: c.epochs,
    batchSize: c.batchSize,
    lr: c.lr,
    targetAccuracy: c.targetAccuracy,
    threads: c.threads,
    trainSeconds: c.trainSeconds,
    maxStepsPerEpoch: c.maxStepsPerEpoch,
    maxProjectedSeconds: c.maxProjectedSeconds,
    fallbackTrainSeconds: c.fallbackTrainSeconds,
    inferenceSeconds: c.inferenceSeconds,
    agreementImages: c.agreementImages,
    agreementWeights: ref ? join(ctx.dir, ref.info.weightsFile) : null,
    weightsOut: weightsFile(ctx.dir, backend),
  };
  await mkdir(dirname(job.weightsOut), { recursive: true });
  await mkdir(dirname(logFile(ctx.dir, backend)), { recursive: true });
  const log: WriteStream = createWriteStream(logFile(ctx.dir, backend), { flags: 'a' });
  log.write(`--- ${new Date().toISOString()} ${backend}\n`);
  const stderrTail: string[] = [];
  const say = (s: string) => {
    if (!ctx.json) process.stderr.write(s + '\n');
  };

  let torchDir: string | null = null;
  let child: ChildProcess;
  if (kind === 'reference') {
    // PyTorch gets the same epochs and budget as the backends; in the full profile it runs the
    // whole recipe (no probe: it is the fastest trainer here by far).
    // Python's thread count is explicit: --threads, else every core (Node backends pick their own).
    const prepared = await prepareTorchJob({ ...job, threads: c.threads ?? availableParallelism() }, ctx.train, ctx.test);
    torchDir = prepared.dir;
    child = spawnTorch(prepared.jobFile);
  } else {
    child = fork(CHILD_SCRIPT, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced' });
  }
  let killedByUs = false;
  let timedOut = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', (err) => {
      stderrTail.push(err.message);
      resolve({ code: -1, signal: null });
    });
  });
  onProcess({
    kill: () => {
      killedByUs = true;
      child.kill('SIGKILL');
    },
    exited,
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, ctx.cellTimeoutSeconds * 1000);
  timer.unref();

  let phase: Phase = 'start';
  let finished = false;
  let agreementLogits: { logits: number[]; weightsFile: string } | null = null;
  const progress: ProgressReporter = createProgress(label, ctx.progress);
  const handle = (m: ChildMessage) => {
    switch (m.type) {
      case 'phase':
        phase = m.phase;
        if (ctx.json) jsonLine({ type: 'phase', backend, phase: m.phase });
        else if (m.phase !== 'start' && m.phase !== 'session') {
          progress.pause();
          if (ctx.progress === 'lines' || m.phase !== 'train') say(`${label} ${m.phase}${m.detail ? ` (${m.detail})` : ''}`);
        }
        break;
      case 'info':
        Object.assign(cell, {
          package: m.info.package,
          description: m.info.description,
          canTrain: m.info.canTrain,
          runtime: m.info.runtime,
          versions: m.info.versions,
          threads: m.info.threads ?? null,
        });
        say(`${label} ${m.info.runtime}`);
        break;
      case 'step':
        progress.step(m.progress as StepProgress);
        break;
      case 'epoch': {
        const e = m.metrics;
        progress.pause();
        if (ctx.json) jsonLine({ type: 'epoch', backend, ...e });
        else
          say(
            `${label} epoch ${e.epoch}${e.partial ? ' (partial)' : ''}: ${e.steps} steps, train loss ${fixed(e.trainLoss)}, ` +
              `val acc ${pct(e.valAccuracy)}, ${int(e.imagesPerSecond)} img/s`,
          );
        break;
      }
      case 'training':
        cell.training = m.training ? { ...m.training, weightsFile: m.training.weightsFile ? relative(ctx.dir, m.training.weightsFile) : null } : null;
        cell.trainingSkipped = m.skipped;
        break;
      case 'evaluation':
        cell.evaluation = m.evaluation;
        break;
      case 'agreement':
        agreementLogits = { logits: m.logits, weightsFile: m.weightsFile };
        break;
      case 'inference':
        cell.inference = m.inference;
        break;
      case 'done':
        cell.peakRssMB = m.peakRssMB;
        finished = true;
        break;
      case 'error':
        cell.peakRssMB = m.peakRssMB;
        cell.status = 'error';
        cell.error = { phase: m.phase, message: m.message };
        finished = true;
        break;
    }
  };
  const onStderr = (chunk: Buffer) => {
    const text = chunk.toString();
    log.write(text);
    for (const line of text.split('\n')) if (line.trim()) stderrTail.push(line.trim());
    if (stderrTail.length > 20) stderrTail.splice(0, stderrTail.length - 20);
  };
  child.stderr?.on('data', onStderr);
  if (kind === 'reference') {
    let buffered = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (!line) continue;
        try {
          handle(JSON.parse(line) as ChildMessage);
        } catch {
          log.write(`(stdout) ${line}\n`);
        }
      }
    });
  } else {
    child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    child.on('message', (m) => handle(m as ChildMessage));
    child.send(job);
  }

  const { code, signal } = await exited;
  clearTimeout(timer);
  progress.stop();
  await new Promise<void>((resolve) => log.end(resolve));
  if (torchDir) await cleanupTorchJob(torchDir);
  cell.wallSeconds = (performance.now() - t0) / 1000;

  if (!finished || (code !== 0 && cell.status === 'ok')) {
    cell.status = 'error';
    const tail = stderrTail.length ? `; last output: ${stderrTail.slice(-3).join(' | ')}` : '';
    let message: string;
    if (timedOut) message = `timed out after ${ctx.cellTimeoutSeconds} s (killed)`;
    else if (signal) message = `the ${kind === 'reference' ? 'Python' : 'backend'} process was killed by ${signal} during ${phase}`;
    else message = `the ${kind === 'reference' ? 'Python' : 'backend'} process exited with code ${code} during ${phase} without a result${tail}`;
    cell.error = { phase, message };
  }

  // Agreement: the first trained weights become the shared weights for every later cell.
  if (agreementLogits) {
    const { logits, weightsFile: wf } = agreementLogits as { logits: number[]; weightsFile: string };
    try {
      let current = agreementRef();
      if (!current && cell.training?.weightsFile) {
        current = await computeAgreementReference(ctx, wf, `final weights of ${backend} (the first backend to finish training in this run)`);
        setSharedReference(current);
      }
      if (current) cell.agreement = compareLogits(current, logits, numClasses(c.modelSpec));
    } catch (err) {
      if (!cell.error) {
        cell.status = 'error';
        cell.error = { phase: 'agreement', message: (err as Error).message };
      }
    }
  }
  return { cell, killedByUs };
}

let sharedReference: AgreementReference | null = null;
function setSharedReference(r: AgreementReference | null) {
  sharedReference = r;
}

export interface RunOutcome {
  report: Report;
  interrupted: boolean;
}

export function oneLineSummary(cell: BackendResult): string {
  if (cell.status === 'error') return `${cell.backend}: ERROR in ${cell.error!.phase}: ${cell.error!.message}`;
  const parts: string[] = [];
  const t = cell.training;
  if (t) parts.push(`train ${int(t.imagesPerSecond)} img/s (epoch ${duration(t.epochSeconds)}${t.projected ? ' projected' : ''})`);
  if (cell.evaluation) parts.push(`test acc ${pct(cell.evaluation.accuracy)}`);
  if (cell.inference) parts.push(`b1 p50 ${cell.inference.batch1.p50Ms.toFixed(3)} ms, b256 ${int(cell.inference.batch256.imagesPerSecond)} img/s`);
  if (cell.agreement) parts.push(`max|Δlogit| ${cell.agreement.maxAbsLogitDiff === null ? 'non-finite' : cell.agreement.maxAbsLogitDiff.toExponential(1)}`);
  if (cell.peakRssMB !== null) parts.push(`RSS ${Math.round(cell.peakRssMB)} MB`);
  return `${cell.backend}: ${parts.join(', ')} (${duration(cell.wallSeconds)})`;
}

/** Runs every unfinished cell of ctx.config.backends; cells with status ok in DIR are kept. */
export async function executeRun(ctx: RunContext): Promise<RunOutcome> {
  const startedAt = performance.now();
  const cells = await readCells(ctx.dir);
  for (const [id, cell] of cells) if (cell.status !== 'ok' || !ctx.config.backends.includes(id)) cells.delete(id);
  setSharedReference(await loadAgreementReference(ctx));

  let current: CellProcess | null = null;
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) return;
    interrupted = true;
    if (!ctx.json) process.stderr.write('\ninterrupted: stopping the running backend; finished cells are kept (lenet-bench run --resume DIR continues)\n');
    current?.kill();
  };
  // First Ctrl-C stops gracefully; a second one or SIGTERM exits at once (safety/signals.ts).
  const offStop = onStopSignal({ graceful: onSigint, kill: () => current?.kill() });
  try {
    await writeReport(ctx, cells, sharedReference?.info ?? null, 'running', startedAt);
    const total = ctx.config.backends.length;
    for (const [i, backend] of ctx.config.backends.entries()) {
      if (interrupted) break;
      const label = `[${i + 1}/${total}] ${backend}`;
      if (cells.has(backend)) {
        if (ctx.json) jsonLine({ type: 'skip', backend, reason: 'finished in an earlier run' });
        else process.stderr.write(`${label}: already finished (${relative(process.cwd(), cellFile(ctx.dir, backend))}), skipped\n`);
        continue;
      }
      if (ctx.json) jsonLine({ type: 'cell-start', backend });
      const { cell, killedByUs } = await runCell(ctx, backend, () => sharedReference, (p) => {
        current = p;
        if (interrupted) p.kill(); // Ctrl-C arrived while the process was starting
      }, label);
      current = null;
      if (killedByUs || interrupted) break; // not an error of the backend: left pending for --resume
      await writeCell(ctx.dir, cell);
      cells.set(backend, cell);
      await writeReport(ctx, cells, sharedReference?.info ?? null, 'running', startedAt);
      if (ctx.json) jsonLine({ type: 'cell', backend, status: cell.status, error: cell.error, result: cell });
      else process.stderr.write(`${oneLineSummary(cell)}\n`);
    }
    const status: Report['status'] = interrupted ? 'interrupted' : cells.size === ctx.config.backends.length ? ([...cells.values()].some((c) => c.status === 'error') ? 'complete-with-errors' : 'complete') : 'running';
    const report = await writeReport(ctx, cells, sharedReference?.info ?? null, status, startedAt);
    return { report, interrupted };
  } finally {
    offStop();
  }
}
