/**
 * `lenet-bench run`: one cell per backend (plus the optional PyTorch reference), each in its own
 * process, all on identical work. The processes live for the whole run and the runner makes them
 * take turns — one measurement window each, round-robin, the order rotated every round — so only
 * one backend works at a time and a slow drift of the (shared, noisy) machine touches every
 * backend alike. Every figure is the median of its windows with a 95% interval; ratios to the
 * reference come from windows of the same round (results.ts).
 *
 *   1. training: each training backend trains the recipe in windows of ~sliceSeconds, evaluated on
 *      a fixed stratified test subset every evalEverySteps (learning curves); it stops at the
 *      target accuracy (quick profile), at the end of the recipe, or at its time budget;
 *   2. the first backend's final weights become the shared weights: float64 reference logits;
 *   3. every cell runs the shared weights: agreement logits, evaluation of inference-only cells;
 *   4. inference: inferenceRounds rounds, one window per batch size per backend per round;
 *   5. cold start: coldStartProcesses fresh processes per backend cell, taking turns, each timing
 *      import, createSession, the first predict and the first training step (cold-start.ts).
 * Cell files are written when a cell's training ends and when it is complete, and report.json/md/
 * html after every step of the run, so a crash, a kill or Ctrl-C never loses finished work and
 * `--resume DIR` continues where the run stopped.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { argmax, referenceForward } from '@lenet/core';
import { numClasses, type ModelSpec } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { duration, int, jsonLine, pct } from '../format.js';
import { renderAll } from '../report/render.js';
import { renderMarkdown } from '../report/markdown.js';
import { writeFileAtomicSync } from '../safety/write.js';
import { validateReport } from '../report/schema.js';
import { onStopSignal } from '../safety/signals.js';
import { CellProcess, CellProcessError } from './cell-process.js';
import { measureColdStarts } from './cold-start.js';
import { isNearChance } from '../report/verdict.js';
import { createRunDisplay, trainingDetail, type CellProgress, type RunDisplay } from './live-display.js';
import { NoiseMonitor } from './noise.js';
import { computeComparisons, inferenceResult, trainingThroughput } from './results.js';
import { medianInterval } from '../stats/intervals.js';
import { cleanupTorchJob, prepareTorchJob, pythonExecutable, TORCH_SCRIPT } from './torch.js';
import { cellFile, logFile, readCells, weightsFile, writeCell, writeFileAtomic } from './store.js';
import type { AgreementInfo, AgreementResult, BackendResult, ChildJob, ChildMessage, Environment, InferenceWindow, Report, RunConfig } from './types.js';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from './types.js';

export const CHILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'child.js');
export const PEAKS_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'peaks-child.js');
export const TORCH_CELL = 'pytorch';

/** A cell id: the backend name, or "<backend>@<n>t" when the run scales threads. */
export function cellId(backend: string, threads: number): string {
  return `${backend}@${threads}t`;
}

export function parseCellId(id: string): { backend: string; threads: number | null } {
  const m = /^(.+)@(\d+)t$/.exec(id);
  return m ? { backend: m[1]!, threads: Number(m[2]) } : { backend: id, threads: null };
}

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
  /** Noise samples and peaks of earlier invocations (resume). */
  priorNoise?: Report['noise'];
  priorPeaks?: Report['peaks'];
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

let peaksResult: Report['peaks'] = null;

/** The report of the run as it stands, validated (NaN/Infinity already null, as in the file). */
function assembleReport(ctx: RunContext, cells: Map<string, BackendResult>, agreement: AgreementInfo | null, status: Report['status'], startedAt: number, noise: Report['noise']): Report {
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
    pending: ctx.config.backends.filter((b) => !isComplete(cells.get(b))),
    errors: results.filter((r) => r.error).map((r) => ({ backend: r.backend, phase: r.error!.phase, message: r.error!.message })),
    notes: ctx.notes,
    noise,
    comparisons: null,
    peaks: peaksResult,
  };
  report.comparisons = computeComparisons(report);
  // Round-trip through JSON first: NaN/Infinity become null exactly as in the file.
  const plain = JSON.parse(JSON.stringify(report)) as unknown;
  validateReport(plain, join(ctx.dir, 'report.json'));
  return plain;
}

/** Assembles, validates and writes report.json, report.md and report.html. */
export async function writeReport(
  ctx: RunContext,
  cells: Map<string, BackendResult>,
  agreement: AgreementInfo | null,
  status: Report['status'],
  startedAt: number,
  noise: Report['noise'] = [],
  render = true,
): Promise<Report> {
  const report = assembleReport(ctx, cells, agreement, status, startedAt, noise);
  await writeFileAtomic(join(ctx.dir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
  if (render) await renderAll(ctx.dir, report);
  return report;
}

/**
 * report.json of a run that stopped on an error, status "interrupted". On a full disk the atomic
 * rewrite needs room for a second copy: report.md and report.html (rendered from report.json,
 * `lenet-bench report DIR` renders them again) are removed to make it, rather than leave a
 * report that says "running" for a process that is gone. Best effort: the error is thrown anyway.
 */
async function writeStoppedReport(ctx: RunContext, inMemory: Map<string, BackendResult>, agreement: AgreementInfo | null, startedAt: number, noise: Report['noise']): Promise<void> {
  // The rows as written to cells/ (what --resume keeps): a cell whose file could not be written
  // is reported as pending, not as finished.
  const cells = await readCells(ctx.dir).catch(() => inMemory);
  try {
    await writeReport(ctx, cells, agreement, 'interrupted', startedAt, noise, false);
  } catch (err) {
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOSPC') return;
    ctx.notes.push('report.md and report.html were removed to make room on the full disk for this report.json; lenet-bench report DIR renders them again');
    await rm(join(ctx.dir, 'report.html'), { force: true });
    await rm(join(ctx.dir, 'report.md'), { force: true });
    await writeReport(ctx, cells, agreement, 'interrupted', startedAt, noise, false).catch(() => undefined);
  }
}

/**
 * report.json (and report.md) of a process that exits now (SIGTERM, a second Ctrl-C): status
 * "interrupted" with a note saying how, written synchronously. report.html is re-rendered by
 * `lenet-bench report DIR` or the next --resume. Best effort: the process exits either way.
 */
function writeInterruptedReportSync(ctx: RunContext, cells: Map<string, BackendResult>, agreement: AgreementInfo | null, startedAt: number, noise: Report['noise'], how: string): void {
  try {
    ctx.notes.push(`${how} at ${new Date().toISOString()}: the running cells were killed, finished cells are kept; lenet-bench run --resume DIR continues`);
    const report = assembleReport(ctx, cells, agreement, 'interrupted', startedAt, noise);
    writeFileAtomicSync(join(ctx.dir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileAtomicSync(join(ctx.dir, 'report.md'), renderMarkdown(report));
  } catch (err) {
    process.stderr.write(`warning: report.json could not be marked interrupted: ${(err as Error).message}\n`);
  }
}

/** A cell whose row is final: failed, or measured through inference. */
export function isComplete(cell: BackendResult | undefined): boolean {
  return !!cell && (cell.status === 'error' || cell.inference !== null);
}

/** A cell whose training phase is over (trained, or cannot train). */
function trainingDone(cell: BackendResult | undefined): boolean {
  return !!cell && cell.status === 'ok' && (cell.training !== null || cell.trainingSkipped !== null);
}

export interface RunOutcome {
  report: Report;
  interrupted: boolean;
}

/** "10.00% = chance" near chance level (1 / classes), so a budget-cut 10% never reads as a broken backend. */
const accuracyText = (acc: number, classes: number) => `${pct(acc)}${isNearChance(acc, classes) ? ` = chance (1 in ${classes})` : ''}`;

export function oneLineSummary(cell: BackendResult, classes: number): string {
  if (cell.status === 'error') return `${cell.backend}: ERROR in ${cell.error!.phase}: ${cell.error!.message}`;
  const parts: string[] = [];
  const t = cell.training;
  if (t) parts.push(`train ${int(t.imagesPerSecond)} img/s (epoch ${duration(t.epochSeconds)}${t.projected ? ' projected' : ''})`);
  if (cell.evaluation) parts.push(`test acc ${accuracyText(cell.evaluation.accuracy, classes)}`);
  if (cell.inference) parts.push(`b1 p50 ${cell.inference.batch1.p50Ms.toFixed(3)} ms, b256 ${int(cell.inference.batch256.imagesPerSecond)} img/s`);
  if (cell.agreement) parts.push(`max|Δlogit| ${cell.agreement.maxAbsLogitDiff === null ? 'non-finite' : cell.agreement.maxAbsLogitDiff.toExponential(1)}`);
  if (cell.peakRssMB !== null) parts.push(`RSS ${Math.round(cell.peakRssMB)} MB`);
  if (cell.coldStart) {
    const ms = cell.coldStart.toFirstPredictionMs.estimate;
    parts.push(`cold start to first prediction ${ms < 1000 ? `${Math.round(ms)} ms` : duration(ms / 1000)}`);
  }
  return `${cell.backend}: ${parts.join(', ')} (${duration(cell.wallSeconds)})`;
}


/** Rotates `xs` left by `k` (round k starts with the k-th backend). */
export function rotate<T>(xs: readonly T[], k: number): T[] {
  if (!xs.length) return [];
  const s = ((k % xs.length) + xs.length) % xs.length;
  return [...xs.slice(s), ...xs.slice(0, s)];
}

/** A backend below this share of the fastest trainer's img/s, projected over the profile's limit, is budget-limited. */
const SLOW_FRACTION = 0.5;

/** Timeouts per command (seconds): generous, they only catch hangs. */
const TIMEOUT = { init: 600, finish: 900, prepare: 900 } as const;

interface Live {
  id: string;
  job: ChildJob;
  proc: CellProcess;
  cell: BackendResult;
  t0: number;
  canTrain: boolean;
  /** Training seconds granted and used so far. */
  trained: number;
  images: number;
  /** The same without the first (warm-up) window. */
  warmSeconds: number;
  warmImages: number;
  windows: number;
  /** This cell's training budget (seconds), null = none. */
  budget: number | null;
  budgetReason: string | null;
  /** Whether the recipe-time projection (maxProjectedSeconds) has been made. */
  projectionChecked: boolean;
  reachedTarget: boolean;
  torchDir: string | null;
  inferWindows: InferenceWindow[];
  samples: Map<number, number[]>;
  agreementLogits: { logits: number[]; weightsFile: string } | null;
}

/**
 * Feeds the live display (live-display.ts): the phase, the cell working now, per-cell progress and
 * the run's ETA. Training ETA: each cell's remaining recipe (or budget) at its measured img/s,
 * scaled by the wall time the windows really took (evaluations, switching); then the inference
 * windows at their planned length. Inference ETA: the remaining windows at the measured pace.
 */
function runProgress(c: RunConfig, live: Live[], ids: string[], display: () => RunDisplay | null) {
  const stepsPerEpoch = Math.min(Math.ceil(c.trainCount / c.batchSize), c.maxStepsPerEpoch ?? Infinity);
  const imagesPerEpoch = Math.max(1, stepsPerEpoch * c.batchSize);
  const recipeImages = c.epochs * imagesPerEpoch;
  const batchSizes = c.batchSizes ?? [1, 256];
  const rounds = c.inferenceRounds ?? 1;
  const windowSeconds = c.windowSeconds ?? c.inferenceSeconds / (rounds * batchSizes.length);
  // Planned inference time: every window, plus the peaks' windows, plus ~30% switching.
  const inferencePlan = (cells: number) => 1.3 * rounds * (cells * batchSizes.length * windowSeconds + (c.peaks !== false ? 2 * Math.max(0.2, windowSeconds) : 0));
  let trainStart: number | null = null;
  let inferStart: number | null = null;
  const windowsDone = new Map<string, number>();
  const alive = (l: Live) => l.cell.status === 'ok' && !l.proc.failed;
  const byId = (id: string) => live.find((l) => l.id === id);
  const failed = (id: string): CellProgress | null => {
    const l = byId(id);
    return l && !alive(l) ? { id, fraction: 0, detail: 'failed' } : null;
  };
  const trainFraction = (l: Live) => (l.cell.training ? 1 : Math.min(1, Math.max(l.images / recipeImages, l.budget ? l.trained / l.budget : 0)));
  const trainRemaining = (l: Live): number | null => {
    if (l.cell.training || !alive(l) || !l.canTrain) return 0;
    if (l.trained <= 0 || l.images <= 0) return null;
    const byRecipe = (recipeImages - l.images) / (l.images / l.trained);
    return Math.max(0, l.budget === null ? byRecipe : Math.min(byRecipe, l.budget - l.trained));
  };
  const push = (phase: string, current: string | null, round: number | null, roundsTotal: number | null, fraction: number, eta: number | null, cells: CellProgress[]) =>
    display()?.update({ phase, current, round, rounds: roundsTotal, fraction, etaSeconds: eta, cells });
  return {
    starting(id: string) {
      push('starting', id, null, null, ids.indexOf(id) / ids.length, null, ids.map((x) => failed(x) ?? { id: x, fraction: byId(x) ? 1 : 0, detail: byId(x) ? 'ready' : x === id ? 'starting' : 'waiting' }));
    },
    training(current: Live | null, round: number) {
      trainStart ??= performance.now();
      const trainers = live.filter((l) => l.canTrain);
      const rem = trainers.map(trainRemaining);
      const trained = trainers.reduce((a, l) => a + l.trained, 0);
      const overhead = trained > 0 ? Math.max(1, (performance.now() - trainStart) / 1000 / trained) : 1;
      const eta = rem.some((x) => x === null) ? null : rem.reduce<number>((a, x) => a + x!, 0) * overhead + inferencePlan(live.filter(alive).length);
      const fraction = trainers.length ? trainers.reduce((a, l) => a + trainFraction(l), 0) / trainers.length : 1;
      const cells = ids.map((id): CellProgress => {
        const l = byId(id);
        if (!l) return { id, fraction: 0, detail: 'not started' };
        if (!alive(l)) return { id, fraction: 0, detail: 'failed' };
        if (!l.canTrain) return { id, fraction: 0, detail: 'inference only' };
        const done = l.cell.training ? (l.cell.training.stoppedBy === 'target' ? 'reached the target' : l.cell.training.stoppedBy === 'budget' ? 'budget done' : 'recipe done') : null;
        if (l.windows === 0) return { id, fraction: 0, detail: current === l ? 'first window' : 'waiting' };
        return { id, fraction: trainFraction(l), detail: trainingDetail(l.images / imagesPerEpoch, l.trained > 0 ? l.images / l.trained : null, l.trained, done) };
      });
      push('training', current?.id ?? null, round, null, fraction, eta, cells);
    },
    preparing(current: Live) {
      push('agreement + evaluation', current.id, null, null, 1, inferencePlan(live.filter(alive).length), ids.map((id) => failed(id) ?? { id, fraction: 1, detail: 'trained' }));
    },
    inference(current: Live, batchSize: number, round: number, roundsTotal: number, perRound: number, inferers: Live[]) {
      inferStart ??= performance.now();
      const total = roundsTotal * perRound * inferers.length;
      const done = [...windowsDone.values()].reduce((a, x) => a + x, 0);
      const elapsed = (performance.now() - inferStart) / 1000;
      const eta = done > 0 ? ((total - done) * elapsed) / done : inferencePlan(inferers.length);
      const cells = ids.map((id): CellProgress => {
        const f = failed(id);
        if (f) return f;
        const n = windowsDone.get(id) ?? 0;
        return { id, fraction: n / (roundsTotal * perRound), detail: `${n}/${roundsTotal * perRound} windows` };
      });
      push('inference', `${current.id} batch ${batchSize}`, round, roundsTotal, total ? done / total : 1, eta, cells);
      windowsDone.set(current.id, (windowsDone.get(current.id) ?? 0) + 1);
    },
  };
}

/** Runs every unfinished cell of ctx.config.backends; complete cells in DIR are kept. */
export async function executeRun(ctx: RunContext): Promise<RunOutcome> {
  const startedAt = performance.now();
  const c = ctx.config;
  const cells = await readCells(ctx.dir);
  peaksResult = ctx.priorPeaks ?? null;
  for (const [id, cell] of cells) if (cell.status !== 'ok' || !c.backends.includes(id)) cells.delete(id);
  let shared = await loadAgreementReference(ctx);
  const noise = new NoiseMonitor();
  const noiseSamples = () => [...(ctx.priorNoise ?? []), ...noise.samples];
  noise.sample();
  // The live display (TTY) takes over the log lines once the cells start.
  let display: RunDisplay | null = null;
  const say = (s: string) => {
    if (ctx.json) return;
    if (display) display.log(s);
    else process.stderr.write(s + '\n');
  };
  const emit = (v: Record<string, unknown>) => {
    if (ctx.json) jsonLine(v);
  };

  const live: Live[] = [];
  let interrupted = false;
  let coldStartProcess: CellProcess | null = null;
  const onSigint = () => {
    if (interrupted) return;
    interrupted = true;
    say('\ninterrupted: stopping the backends; finished cells are kept (lenet-bench run --resume DIR continues)');
    for (const l of live) l.proc.kill();
    coldStartProcess?.kill();
  };
  // First Ctrl-C stops gracefully; a second one or SIGTERM exits at once (safety/signals.ts).
  const offStop = onStopSignal({
    graceful: onSigint,
    kill: (how) => {
      [...live.map((l) => l.proc), ...(coldStartProcess ? [coldStartProcess] : [])].forEach((p) => p.kill());
      writeInterruptedReportSync(ctx, cells, shared?.info ?? null, startedAt, noiseSamples(), how);
    },
  });

  const save = async (render = true) => writeReport(ctx, cells, shared?.info ?? null, 'running', startedAt, noiseSamples(), render);
  const fail = async (l: Live, err: unknown) => {
    if (interrupted || l.proc.killedByUs) return;
    const e = err instanceof CellProcessError ? err : new CellProcessError((err as Error).message, l.proc.phase);
    l.cell.status = 'error';
    l.cell.error = { phase: e.phase, message: e.message };
    l.cell.wallSeconds = (performance.now() - l.t0) / 1000;
    l.proc.kill();
    cells.set(l.id, l.cell);
    await writeCell(ctx.dir, l.cell);
    emit({ type: 'cell', backend: l.id, status: 'error', error: l.cell.error, result: l.cell });
    say(oneLineSummary(l.cell, numClasses(c.modelSpec)));
  };
  const ok = (l: Live) => !interrupted && l.cell.status === 'ok' && !l.proc.failed;

  try {
    await save();
    const todo = c.backends.filter((b) => !isComplete(cells.get(b)));
    for (const b of c.backends) if (!todo.includes(b)) {
      emit({ type: 'skip', backend: b, reason: 'finished in an earlier run' });
      say(`${b}: already finished (${relative(process.cwd(), cellFile(ctx.dir, b))}), kept`);
    }

    display = createRunDisplay(ctx.json ? 'off' : ctx.progress, todo);
    const progress = runProgress(c, live, todo, () => display);

    // 1. Start every cell's process.
    for (const id of todo) {
      if (interrupted) break;
      progress.starting(id);
      const prior = cells.get(id);
      const l = await startCell(ctx, id, prior && trainingDone(prior) ? prior : null, say);
      live.push(l);
      emit({ type: 'cell-start', backend: id });
      try {
        await l.proc.request({ type: 'init', job: l.job }, ['ready'], TIMEOUT.init);
      } catch (err) {
        await fail(l, err);
      }
    }

    // 2. Training, in windows, round-robin.
    const trainers = live.filter((l) => ok(l) && l.canTrain && !trainingDone(cells.get(l.id)));
    let active = [...trainers];
    let round = 0;
    let lastReport = performance.now();
    if (active.length) say(`training ${active.map((l) => l.id).join(', ')} in windows of ~${c.sliceSeconds ?? 2} s, taking turns`);
    while (active.length && !interrupted) {
      for (const l of rotate(active, round)) {
        if (!ok(l)) continue;
        const remaining = l.budget === null ? Infinity : l.budget - l.trained;
        const grant = Math.max(0.05, Math.min(c.sliceSeconds ?? 2, remaining));
        progress.training(l, round);
        let m: ChildMessage;
        try {
          m = await l.proc.request({ type: 'train', seconds: grant, round }, ['slice'], Math.max(grant * 30, 600));
        } catch (err) {
          await fail(l, err);
          continue;
        }
        if (m.type !== 'slice') continue;
        l.trained += m.window.seconds;
        l.images += m.window.images;
        l.windows++;
        if (l.windows > 1) {
          l.warmSeconds += m.window.seconds;
          l.warmImages += m.window.images;
        }
        let end: 'budget' | 'target' | 'done' | null = m.finished;
        if (!end) {
          // Budget: a backend that would need far longer than the profile allows for the recipe is cut.
          // The reference is never cut (every ratio is to it); the first window (warm-up) is not used.
          // Checked after 3 windows, or after 2 when one window already outlasts the fallback budget
          // (a backend whose single step takes longer than a window would overshoot it by a window).
          const measured = l.windows >= 3 || (l.windows >= 2 && c.fallbackTrainSeconds !== null && l.trained >= c.fallbackTrainSeconds);
          if (!l.projectionChecked && c.maxProjectedSeconds !== null && measured && l.warmSeconds > 0 && l.cell.kind !== 'reference') {
            l.projectionChecked = true;
            const ips = l.warmImages / l.warmSeconds;
            const projected = (c.epochs * c.trainCount) / Math.max(ips, 1e-9);
            // Relative too: on a slow (or busy) machine the fastest trainers still train, so the
            // report shows learning; only backends far behind the fastest are cut.
            const fastest = Math.max(...trainers.filter((t) => t.warmSeconds > 0).map((t) => t.warmImages / t.warmSeconds));
            if (projected > c.maxProjectedSeconds && ips < SLOW_FRACTION * fastest && c.fallbackTrainSeconds !== null && (l.budget === null || c.fallbackTrainSeconds < l.budget)) {
              l.budget = c.fallbackTrainSeconds;
              l.budgetReason =
                `at ~${Math.round(ips)} img/s (fastest: ~${Math.round(fastest)}) the ${c.epochs}-epoch recipe would take ~${duration(projected)} ` +
                `(more than ${duration(c.maxProjectedSeconds)}), so it trained for ${c.fallbackTrainSeconds} s`;
              say(`${l.id}: budget-limited: ${l.budgetReason}`);
            }
          }
          if (l.budget !== null && l.trained >= l.budget - 1e-6) end = 'budget';
        }
        if (end) {
          await finishTraining(ctx, l, end, say, emit, fail);
          if (l.cell.status === 'ok') await writeCell(ctx.dir, l.cell);
        }
      }
      active = active.filter((l) => ok(l) && !l.cell.training);
      progress.training(null, round);
      noise.sample();
      round++;
      if (performance.now() - lastReport > 30_000) {
        lastReport = performance.now();
        for (const l of trainers) cells.set(l.id, l.cell);
        await save(false);
        say(`round ${round}: ${trainers.map((l) => `${l.id} ${l.trained.toFixed(0)} s${l.cell.training ? ' (done)' : ''}`).join(', ')}`);
      }
    }
    for (const l of live) if (l.cell.training || l.cell.trainingSkipped) cells.set(l.id, l.cell);
    if (interrupted) throw new Interrupted();

    // 3. Shared weights: the first backend (in run order) that trained, and their float64 logits.
    if (!shared) {
      const first = c.backends.map((b) => cells.get(b)).find((x) => x?.status === 'ok' && x.training?.weightsFile);
      if (first) shared = await computeAgreementReference(ctx, join(ctx.dir, first.training!.weightsFile!), `final weights of ${first.backend} (the first backend in run order that trained)`);
    }
    await save();

    // 4. Every cell runs the shared weights: agreement, evaluation of inference-only cells.
    const batchSizes = c.batchSizes ?? [1, 256];
    const maxBatch = Math.max(...batchSizes);
    for (const l of live) {
      if (!ok(l)) continue;
      progress.preparing(l);
      try {
        await l.proc.request(
          {
            type: 'prepare',
            sharedWeights: shared ? join(ctx.dir, shared.info.weightsFile) : null,
            agreementImages: c.agreementImages,
            evaluate: !l.cell.evaluation,
            evalImages: finalEvalImages(ctx, l),
            maxBatchSize: maxBatch,
          },
          ['prepared'],
          TIMEOUT.prepare,
        );
      } catch (err) {
        await fail(l, err);
        continue;
      }
      if (shared && l.agreementLogits) {
        try {
          l.cell.agreement = compareLogits(shared, l.agreementLogits.logits, numClasses(c.modelSpec));
        } catch (err) {
          await fail(l, err);
        }
      }
    }
    if (interrupted) throw new Interrupted();

    // 5. Inference windows: rounds x backends (rotated) x batch sizes, and the machine peaks.
    const inferers = live.filter(ok);
    const peakWindows = { native: [] as number[], wasm: [] as number[] };
    const peakInfo: Record<'native' | 'wasm', { detail: string | null; unavailable: string | null }> = { native: { detail: null, unavailable: null }, wasm: { detail: null, unavailable: null } };
    let peaks: CellProcess | null = null;
    if (c.peaks !== false && inferers.length) {
      await mkdir(join(ctx.dir, 'logs'), { recursive: true });
      peaks = CellProcess.fork(PEAKS_SCRIPT, logFile(ctx.dir, 'peaks'), 'peaks', () => {});
    }
    const rounds = c.inferenceRounds ?? 1;
    const windowSeconds = c.windowSeconds ?? c.inferenceSeconds / (rounds * batchSizes.length);
    if (inferers.length) say(`inference: ${rounds} rounds of ${batchSizes.length} windows (batch ${batchSizes.join(', ')}) of ~${windowSeconds.toFixed(2)} s per backend, taking turns`);
    for (let r = 0; r < rounds && !interrupted; r++) {
      for (const l of rotate(inferers, r)) {
        if (!ok(l)) continue;
        for (const bs of r % 2 ? [...batchSizes].reverse() : batchSizes) {
          progress.inference(l, bs, r, rounds, batchSizes.length, inferers);
          try {
            const m = await l.proc.request({ type: 'infer', batchSize: bs, seconds: windowSeconds, round: r }, ['window'], Math.max(120, windowSeconds * 60));
            if (m.type === 'window') {
              l.inferWindows.push(m.window);
              const pool = l.samples.get(bs) ?? [];
              pool.push(...m.samplesMs);
              l.samples.set(bs, pool);
            }
          } catch (err) {
            await fail(l, err);
            break;
          }
        }
      }
      if (peaks && !peaks.failed) {
        for (const kind of ['native', 'wasm'] as const) {
          if (peakInfo[kind].unavailable) continue;
          try {
            const m = await peaks.request({ type: 'peak', kind, seconds: Math.max(0.2, windowSeconds), round: r, threads: c.threads }, ['peakWindow'], 120);
            if (m.type === 'peakWindow') {
              peakWindows[kind].push(...m.gflops);
              peakInfo[kind] = { detail: m.detail, unavailable: m.unavailable };
            }
          } catch (err) {
            peakInfo[kind].unavailable = (err as Error).message;
          }
        }
      }
      noise.sample();
    }
    if (peaks) {
      await peaks.close();
      const result = (kind: 'native' | 'wasm') => ({ detail: peakInfo[kind].detail, gflops: medianInterval(peakWindows[kind]), windows: peakWindows[kind].map((g) => Math.round(g * 100) / 100), unavailable: peakWindows[kind].length ? null : (peakInfo[kind].unavailable ?? 'not measured') });
      peaksResult = { native: result('native'), wasm: result('wasm') };
    }
    if (interrupted) throw new Interrupted();

    // 6. Cold start: fresh processes per backend cell, taking turns (cold-start.ts).
    await coldStartPhase(ctx, live.filter(ok), say, () => interrupted, (p) => (coldStartProcess = p));
    if (interrupted) throw new Interrupted();

    // 7. Close the processes, finish the rows.
    for (const l of live) {
      if (ok(l) && l.inferWindows.length) {
        l.cell.inference = inferenceResult(l.inferWindows, l.samples, l.cell.kind === 'reference' ? 'perf_counter windows (torch.no_grad)' : 'tinybench windows');
      }
      await l.proc.close();
      if (l.torchDir) await cleanupTorchJob(l.torchDir);
      if (l.cell.status === 'ok' && l.proc.failed && !l.cell.inference) await fail(l, l.proc.failed);
      l.cell.wallSeconds = (performance.now() - l.t0) / 1000;
      cells.set(l.id, l.cell);
      await writeCell(ctx.dir, l.cell);
      if (l.cell.status === 'ok') {
        emit({ type: 'cell', backend: l.id, status: 'ok', error: null, result: l.cell });
        say(oneLineSummary(l.cell, numClasses(c.modelSpec)));
      }
    }
    noise.sample();
    const allDone = c.backends.every((b) => isComplete(cells.get(b)));
    const status: Report['status'] = !allDone ? 'running' : c.backends.some((b) => cells.get(b)?.status === 'error') ? 'complete-with-errors' : 'complete';
    const report = await writeReport(ctx, cells, shared?.info ?? null, status, startedAt, noiseSamples());
    return { report, interrupted: false };
  } catch (err) {
    if (!(err instanceof Interrupted) && !interrupted) {
      // A run that dies (a write failed on a full disk, a bug) must not leave report.json saying
      // "running": say it stopped and why, if the disk still takes the report (best effort).
      for (const l of live) l.proc.kill();
      const why = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      ctx.notes.push(`stopped at ${new Date().toISOString()} by an error: ${why}; lenet-bench run --resume DIR continues`);
      await writeStoppedReport(ctx, cells, shared?.info ?? null, startedAt, noiseSamples());
      throw err;
    }
    for (const l of live) {
      l.proc.kill();
      await l.proc.close(1).catch(() => {});
      if (l.torchDir) await cleanupTorchJob(l.torchDir);
    }
    ctx.notes.push(`interrupted by Ctrl-C at ${new Date().toISOString()}: the running cells were stopped, finished cells are kept; lenet-bench run --resume DIR continues`);
    const report = await writeReport(ctx, cells, shared?.info ?? null, 'interrupted', startedAt, noiseSamples());
    return { report, interrupted: true };
  } finally {
    display?.stop();
    display = null;
    offStop();
  }
}

class Interrupted extends Error {}

/** Phase 6: measures the cold start of every live backend cell and puts it into its row. */
async function coldStartPhase(ctx: RunContext, cells: Live[], say: (s: string) => void, stopped: () => boolean, onProcess: (p: CellProcess | null) => void): Promise<void> {
  const processes = ctx.config.coldStartProcesses ?? 0;
  const todo = cells.filter((l) => l.cell.kind === 'backend' && l.cell.package);
  if (processes < 1 || !todo.length) return;
  say(`cold start: ${processes} fresh process${processes > 1 ? 'es' : ''} per backend, taking turns (import, session, first predict, first step)`);
  const results = await measureColdStarts({
    cells: todo.map((l) => ({ id: l.id, backend: l.job.backend, packageName: l.cell.package!, threads: l.job.threads, canTrain: l.canTrain })),
    processes,
    config: ctx.config,
    train: ctx.train,
    logPath: (id) => logFile(ctx.dir, id),
    say,
    stopped,
    onProcess,
  });
  for (const l of todo) {
    const r = results.get(l.id);
    if (!r) continue;
    l.cell.coldStart = r.result;
    if (r.error) ctx.notes.push(`${l.id}: ${r.error}`);
  }
}

/** Test images for a cell's final evaluation: the full split unless that would take long on this backend. */
function finalEvalImages(ctx: RunContext, l: Live): number {
  const full = ctx.test.count;
  const curve = l.cell.training?.curve;
  // From the learning-curve evaluations' pace we cannot tell the time; use the training pace:
  // inference is ~3x cheaper per image than a training step.
  const ips = l.images > 0 && l.trained > 0 ? (3 * l.images) / l.trained : Infinity;
  if (full / ips > FULL_EVAL_MAX_SECONDS) return Math.min(full, ctx.config.evalImages ?? full);
  void curve;
  return full;
}
const FULL_EVAL_MAX_SECONDS = 20;

async function finishTraining(
  ctx: RunContext,
  l: Live,
  reason: 'budget' | 'target' | 'done',
  say: (s: string) => void,
  emit: (v: Record<string, unknown>) => void,
  fail: (l: Live, err: unknown) => Promise<void>,
): Promise<void> {
  try {
    await l.proc.request({ type: 'finish', reason, evalImages: finalEvalImages(ctx, l) }, ['evaluation'], TIMEOUT.finish);
  } catch (err) {
    await fail(l, err);
    return;
  }
  const t = l.cell.training;
  if (!t) return;
  t.throughput = trainingThroughput(t.windows ?? []);
  if (t.throughput) t.imagesPerSecond = t.throughput.estimate;
  t.epochSeconds = ctx.config.trainCount / Math.max(t.imagesPerSecond, 1e-9);
  if (t.projected) t.recipeSeconds = t.epochSeconds * ctx.config.epochs;
  t.budget = { maxSeconds: l.budget, maxStepsPerEpoch: ctx.config.maxStepsPerEpoch, reason: reason === 'budget' ? `budget-limited: ${l.budgetReason ?? t.budget.reason}` : t.budget.reason };
  const last = t.curve?.at(-1);
  emit({ type: 'trained', backend: l.id, reason, seconds: t.trainSeconds, accuracy: last?.accuracy ?? null });
  say(
    `${l.id}: training ended (${reason === 'target' ? `reached ${pct(ctx.config.targetAccuracy, 0)}` : reason === 'budget' ? 'budget' : 'recipe done'}) after ${duration(t.trainSeconds)} of training, ` +
      `${int(t.imagesPerSecond)} img/s, learning-curve accuracy ${last ? accuracyText(last.accuracy, numClasses(ctx.config.modelSpec)) : '–'}`,
  );
}

/** Forks (or spawns, for PyTorch) a cell's process and wires its messages into its row. */
async function startCell(ctx: RunContext, id: string, prior: BackendResult | null, say: (s: string) => void): Promise<Live & { job: ChildJob }> {
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
  } as Live & { job: ChildJob };
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
    l.proc = CellProcess.python(pythonExecutable(), ['-u', TORCH_SCRIPT, prepared.jobFile], logFile(ctx.dir, id), id, onMessage, c.torchEnv);
  } else {
    l.proc = CellProcess.fork(CHILD_SCRIPT, logFile(ctx.dir, id), id, onMessage);
  }
  return l;
}
