/**
 * The one object a run's phases share (runner.ts lists the phases): the context, the rows, the
 * live cells, the agreement reference, the peaks, the noise samples, whether the run was
 * interrupted — and the few helpers every phase uses (log a line, emit a JSON event, save the
 * report, fail a cell). Nothing about a run lives outside it.
 */
import { numClasses } from '@lenet/model';
import { jsonLine } from '../format.js';
import { oneLineSummary } from './cells.js';
import { CellProcessError, type CellProcess } from './cell-process.js';
import type { RunContext } from './context.js';
import type { AgreementReference } from './agreement-reference.js';
import type { LiveCell } from './live-cell.js';
import type { RunDisplay } from './live-display.js';
import { NoiseMonitor } from './noise.js';
import type { RunProgress } from './run-progress.js';
import { writeReport, type ReportSnapshot } from './report-file.js';
import { writeCell } from './store.js';
import type { BackendResult, Report } from './types.js';

/** Timeouts per command (seconds): generous, they only catch hangs. */
export const TIMEOUT = { init: 600, finish: 900, prepare: 900 } as const;

export interface RunState {
  readonly ctx: RunContext;
  /** performance.now() when this invocation started. */
  readonly startedAt: number;
  /** Every row of the run: kept from DIR/cells (ok rows of this run's backends), then filled by the phases. */
  readonly cells: Map<string, BackendResult>;
  /** The cells not complete when this invocation started, in run order (the plan). */
  todo: string[];
  /** The cells whose process was started, in start order. */
  readonly live: LiveCell[];
  /** The shared weights and their float64 logits (phase "share weights"; loaded on resume). */
  shared: AgreementReference | null;
  /** The machine's peak GFLOP/s (phase "inference"; kept from an earlier invocation on resume). */
  peaks: Report['peaks'];
  readonly noise: NoiseMonitor;
  /** Set by the first Ctrl-C: every phase stops starting work. */
  interrupted: boolean;
  /** The running cold-start process, so an interrupt can kill it. */
  coldStartProcess: CellProcess | null;
  /** The TTY display, which takes over the log lines once the cells start. */
  display: RunDisplay | null;
  progress: RunProgress | null;
}

export function createRunState(ctx: RunContext, startedAt: number, cells: Map<string, BackendResult>, shared: AgreementReference | null): RunState {
  return {
    ctx,
    startedAt,
    cells,
    todo: [],
    live: [],
    shared,
    peaks: ctx.priorPeaks ?? null,
    noise: new NoiseMonitor(),
    interrupted: false,
    coldStartProcess: null,
    display: null,
    progress: null,
  };
}

/** A log line for the terminal (none with --json). */
export function say(s: RunState, line: string): void {
  if (s.ctx.json) return;
  if (s.display) s.display.log(line);
  else process.stderr.write(line + '\n');
}

/** A --json event line. */
export function emit(s: RunState, event: Record<string, unknown>): void {
  if (s.ctx.json) jsonLine(event);
}

/** This invocation's noise samples after those of earlier invocations (resume). */
export function noiseSamples(s: RunState): Report['noise'] {
  return [...(s.ctx.priorNoise ?? []), ...s.noise.samples];
}

/** The report's view of the state. */
export function snapshot(s: RunState, cells: Map<string, BackendResult> = s.cells): ReportSnapshot {
  return { cells, agreement: s.shared?.info ?? null, startedAt: s.startedAt, noise: noiseSamples(s), peaks: s.peaks };
}

/** Writes report.json (and md/html when `render`) with status "running". */
export function saveRunning(s: RunState, render = true): Promise<Report> {
  return writeReport(s.ctx, snapshot(s), 'running', render);
}

/** A live cell that can still take work: the run is not interrupted, its row is ok and its process did not fail. */
export function canWork(s: RunState, l: LiveCell): boolean {
  return !s.interrupted && l.cell.status === 'ok' && !l.proc.failed;
}

/** Turns a cell's row into an error row (killing its process) and writes it; nothing on an interrupt. */
export async function failCell(s: RunState, l: LiveCell, err: unknown): Promise<void> {
  if (s.interrupted || l.proc.killedByUs) return;
  const e = err instanceof CellProcessError ? err : new CellProcessError((err as Error).message, l.proc.phase);
  l.cell.status = 'error';
  l.cell.error = { phase: e.phase, message: e.message };
  l.cell.wallSeconds = (performance.now() - l.t0) / 1000;
  l.proc.kill();
  s.cells.set(l.id, l.cell);
  await writeCell(s.ctx.dir, l.cell);
  emit(s, { type: 'cell', backend: l.id, status: 'error', error: l.cell.error, result: l.cell });
  say(s, oneLineSummary(l.cell, numClasses(s.ctx.config.modelSpec)));
}

/** Thrown by a phase that finds the run interrupted; executeRun writes the interrupted report. */
export class Interrupted extends Error {}

export function stopIfInterrupted(s: RunState): void {
  if (s.interrupted) throw new Interrupted();
}
