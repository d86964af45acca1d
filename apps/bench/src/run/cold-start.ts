/**
 * The cold-start phase of `lenet-bench run`: for every backend cell, `processes` fresh Node
 * processes (cold-start-child.ts, forked through CellProcess like every cell), each timing the
 * import of the backend package and its runtime, createSession, the first batch-1 predict and
 * the first training step. The backends take turns, one process at a time, the order rotated
 * every round, as in the other phases. Per phase: the median over the processes with its 95%
 * interval (bounds null below 6 processes). The PyTorch reference is not measured (it is not a
 * JavaScript package a user imports).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitToFloat, type ImageSplit } from '@lenet/datasets';
import { medianInterval, type Interval } from '../stats/intervals.js';
import { CellProcess, CellProcessError } from './cell-process.js';
import type { ColdStartJob, ColdStartResult, ColdStartSample, RunConfig } from './types.js';

export const COLD_START_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'cold-start-child.js');

/** A cell to measure: its id (backend or backend@Nt), backend, package and threads. */
export interface ColdStartCell {
  id: string;
  backend: string;
  packageName: string;
  threads: number | null;
  canTrain: boolean;
}

/** Seconds one cold-start process may take before it is killed (only catches hangs). */
const TIMEOUT_SECONDS = 300;

export function coldStartResult(samples: ColdStartSample[]): ColdStartResult | null {
  if (!samples.length) return null;
  const iv = (xs: number[]): Interval => medianInterval(xs)!;
  const steps = samples.map((s) => s.firstStepMs).filter((v): v is number => v !== null);
  return {
    processes: samples.length,
    importMs: iv(samples.map((s) => s.importMs)),
    sessionMs: iv(samples.map((s) => s.sessionMs)),
    firstPredictMs: iv(samples.map((s) => s.firstPredictMs)),
    firstStepMs: steps.length ? iv(steps) : null,
    toFirstPredictionMs: iv(samples.map((s) => s.importMs + s.sessionMs + s.firstPredictMs)),
    samples,
  };
}

/**
 * Runs `processes` rounds; in each, one fresh process per cell. Returns per cell id its result, or
 * the error of its first failed process (a cell's later rounds are skipped after a failure).
 */
export async function measureColdStarts(opts: {
  cells: ColdStartCell[];
  processes: number;
  config: Pick<RunConfig, 'modelSpec' | 'seed' | 'batchSize' | 'lr'>;
  train: ImageSplit;
  logPath: (id: string) => string;
  say: (s: string) => void;
  stopped: () => boolean;
  /** Registers the running process so an interrupt can kill it. */
  onProcess?: (p: CellProcess | null) => void;
}): Promise<Map<string, { result: ColdStartResult | null; error: string | null }>> {
  const { cells, processes, config } = opts;
  const n = Math.min(config.batchSize, opts.train.count);
  const x = splitToFloat(opts.train, 0, n);
  const y = Int32Array.from(opts.train.labels.subarray(0, n));
  const samples = new Map(cells.map((c) => [c.id, [] as ColdStartSample[]]));
  const errors = new Map<string, string>();
  for (let round = 0; round < processes && !opts.stopped(); round++) {
    const order = cells.slice(round % Math.max(1, cells.length)).concat(cells.slice(0, round % Math.max(1, cells.length)));
    for (const cell of order) {
      if (opts.stopped() || errors.has(cell.id)) continue;
      const job: ColdStartJob = { backend: cell.backend, packageName: cell.packageName, spec: config.modelSpec, seed: config.seed, threads: cell.threads, x, y, n, lr: config.lr, train: cell.canTrain };
      const proc = CellProcess.fork(COLD_START_SCRIPT, opts.logPath(cell.id), `${cell.id} cold start ${round + 1}/${processes}`, () => {});
      opts.onProcess?.(proc);
      try {
        const m = await proc.request({ type: 'coldStart', job }, ['coldStart'], TIMEOUT_SECONDS);
        if (m.type === 'coldStart') samples.get(cell.id)!.push(m.sample);
      } catch (err) {
        if (!opts.stopped()) {
          const e = err instanceof CellProcessError ? `${err.message} (during ${err.phase})` : (err as Error).message;
          errors.set(cell.id, `cold start process ${round + 1}: ${e}`);
          opts.say(`${cell.id}: cold start failed: ${e}`);
        }
      } finally {
        opts.onProcess?.(null);
        await proc.close(5);
      }
    }
  }
  return new Map(cells.map((c) => [c.id, { result: coldStartResult(samples.get(c.id)!), error: errors.get(c.id) ?? null }]));
}
