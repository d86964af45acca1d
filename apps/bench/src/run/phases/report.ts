/**
 * Phase "report": every live cell's process is closed and its row finished (inference intervals,
 * wall time) and written; then the final report.json/md/html, status complete, complete-with-errors,
 * or running when cells are left (e.g. a shard of the backends).
 */
import { numClasses } from '@lenet/model';
import { isComplete, oneLineSummary } from '../cells.js';
import { writeReport } from '../report-file.js';
import { inferenceResult } from '../results.js';
import { canWork, emit, failCell, say, snapshot, type RunState } from '../state.js';
import { writeCell } from '../store.js';
import { cleanupTorchJob } from '../torch.js';
import type { Report } from '../types.js';

export async function finishRun(s: RunState): Promise<Report> {
  const c = s.ctx.config;
  for (const l of s.live) {
    if (canWork(s, l) && l.inferWindows.length) {
      l.cell.inference = inferenceResult(l.inferWindows, l.samples, l.cell.kind === 'reference' ? 'perf_counter windows (torch.no_grad)' : 'tinybench windows');
    }
    await l.proc.close();
    if (l.torchDir) await cleanupTorchJob(l.torchDir);
    if (l.cell.status === 'ok' && l.proc.failed && !l.cell.inference) await failCell(s, l, l.proc.failed);
    l.cell.wallSeconds = (performance.now() - l.t0) / 1000;
    s.cells.set(l.id, l.cell);
    await writeCell(s.ctx.dir, l.cell);
    if (l.cell.status === 'ok') {
      emit(s, { type: 'cell', backend: l.id, status: 'ok', error: null, result: l.cell });
      say(s, oneLineSummary(l.cell, numClasses(c.modelSpec)));
    }
  }
  s.noise.sample();
  const allDone = c.backends.every((b) => isComplete(s.cells.get(b)));
  const status: Report['status'] = !allDone ? 'running' : c.backends.some((b) => s.cells.get(b)?.status === 'error') ? 'complete-with-errors' : 'complete';
  return writeReport(s.ctx, snapshot(s), status);
}
