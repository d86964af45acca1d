/** A run's cells: their ids, an empty row, when a row is final, and the one-line summary the terminal shows. */
import { duration, int, pct } from '../format.js';
import { isNearChance } from '../report/verdict.js';
import type { BackendResult } from './types.js';

/** The cell id of the PyTorch reference. */
export const TORCH_CELL = 'pytorch';

/** A cell id: the backend name, or "<backend>@<n>t" when the run scales threads. */
export function cellId(backend: string, threads: number): string {
  return `${backend}@${threads}t`;
}

export function parseCellId(id: string): { backend: string; threads: number | null } {
  const m = /^(.+)@(\d+)t$/.exec(id);
  return m ? { backend: m[1]!, threads: Number(m[2]) } : { backend: id, threads: null };
}

export function emptyCell(backend: string, kind: BackendResult['kind']): BackendResult {
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

/** A cell whose row is final: failed, or measured through inference. */
export function isComplete(cell: BackendResult | undefined): boolean {
  return !!cell && (cell.status === 'error' || cell.inference !== null);
}

/** A cell whose training phase is over (trained, or cannot train). */
export function trainingDone(cell: BackendResult | undefined): boolean {
  return !!cell && cell.status === 'ok' && (cell.training !== null || cell.trainingSkipped !== null);
}

/** "10.00% = chance" near chance level (1 / classes), so a budget-cut 10% never reads as a broken backend. */
export const accuracyText = (acc: number, classes: number) => `${pct(acc)}${isNearChance(acc, classes) ? ` = chance (1 in ${classes})` : ''}`;

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
