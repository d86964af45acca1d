/**
 * `lenet-bench run`: one cell per backend (plus the optional PyTorch reference), each in its own
 * process, all on identical work. The processes live for the whole run and the runner makes them
 * take turns — one measurement window each, round-robin, the order rotated every round — so only
 * one backend works at a time and a slow drift of the (shared, noisy) machine touches every
 * backend alike. Every figure is the median of its windows with a 95% interval; ratios to the
 * reference come from windows of the same round (results.ts).
 *
 * executeRun runs these phases in this order, each a function over one RunState (state.ts):
 *   1. plan           phases/plan.ts           the cells left to run (finished ones are kept), the live display;
 *   2. start          phases/start.ts          every planned cell's process, given its job;
 *   3. train          phases/train.ts          training in windows of ~sliceSeconds, round-robin, evaluated on a
 *                                               fixed stratified test subset every evalEverySteps (learning curves),
 *                                               until the target accuracy (quick profile), the end of the recipe or
 *                                               the cell's budget (the budget rule: budget.ts);
 *   4. share weights  phases/share-weights.ts  the first trained backend's final weights and their float64 logits;
 *   5. agreement      phases/agreement.ts      every cell runs the shared weights: agreement logits, evaluation of
 *                                               inference-only cells;
 *   6. inference      phases/inference.ts      inferenceRounds rounds, one window per batch size per backend per
 *                                               round, then the machine peaks' windows (phases/peaks.ts);
 *   7. cold start     phases/cold-start.ts     coldStartProcesses fresh processes per backend cell (cold-start.ts);
 *   8. report         phases/report.ts         the processes closed, the rows finished, the final report.
 * Cell files are written when a cell's training ends and when it is complete, and report.json/md/
 * html after every step of the run (report-file.ts), so a crash, a kill or Ctrl-C never loses
 * finished work and `--resume DIR` continues where the run stopped.
 */
import { loadAgreementReference } from './agreement-reference.js';
import type { RunContext } from './context.js';
import { writeInterruptedReportSync, writeReport, writeStoppedReport } from './report-file.js';
import { createRunState, Interrupted, saveRunning, say, snapshot, type RunState } from './state.js';
import { readCells } from './store.js';
import { onStopSignal } from '../safety/signals.js';
import { planRun } from './phases/plan.js';
import { startCells } from './phases/start.js';
import { trainInWindows } from './phases/train.js';
import { shareWeights } from './phases/share-weights.js';
import { checkAgreement } from './phases/agreement.js';
import { measureInference } from './phases/inference.js';
import { measureColdStart } from './phases/cold-start.js';
import { finishRun } from './phases/report.js';
import type { Report } from './types.js';
import { cleanupTorchJob } from './torch.js';

export type { RunContext } from './context.js';
export { cellId, isComplete, oneLineSummary, parseCellId, rotate, TORCH_CELL } from './cells.js';
export { compareLogits } from './agreement-reference.js';
export { CHILD_SCRIPT } from './phases/start.js';
export { PEAKS_SCRIPT } from './phases/peaks.js';

export interface RunOutcome {
  report: Report;
  interrupted: boolean;
}

/** Runs every unfinished cell of ctx.config.backends; complete cells in DIR are kept. */
export async function executeRun(ctx: RunContext): Promise<RunOutcome> {
  const startedAt = performance.now();
  const cells = await readCells(ctx.dir);
  for (const [id, cell] of cells) if (cell.status !== 'ok' || !ctx.config.backends.includes(id)) cells.delete(id);
  const s = createRunState(ctx, startedAt, cells, await loadAgreementReference(ctx));
  s.noise.sample();
  const offStop = handleStopSignals(s);
  try {
    await saveRunning(s);
    planRun(s);
    await startCells(s);
    await trainInWindows(s);
    await shareWeights(s);
    await checkAgreement(s);
    await measureInference(s);
    await measureColdStart(s);
    return { report: await finishRun(s), interrupted: false };
  } catch (err) {
    if (!(err instanceof Interrupted) && !s.interrupted) {
      // A run that dies (a write failed on a full disk, a bug) must not leave report.json saying
      // "running": say it stopped and why, if the disk still takes the report (best effort).
      for (const l of s.live) l.proc.kill();
      const why = err instanceof Error ? err.message.split('\n')[0]! : String(err);
      ctx.notes.push(`stopped at ${new Date().toISOString()} by an error: ${why}; lenet-bench run --resume DIR continues`);
      await writeStoppedReport(ctx, snapshot(s));
      throw err;
    }
    for (const l of s.live) {
      l.proc.kill();
      await l.proc.close(1).catch(() => {});
      if (l.torchDir) await cleanupTorchJob(l.torchDir);
    }
    ctx.notes.push(`interrupted by Ctrl-C at ${new Date().toISOString()}: the running cells were stopped, finished cells are kept; lenet-bench run --resume DIR continues`);
    const report = await writeReport(ctx, snapshot(s), 'interrupted');
    return { report, interrupted: true };
  } finally {
    s.display?.stop();
    s.display = null;
    offStop();
  }
}

/**
 * First Ctrl-C stops gracefully (the phases see s.interrupted, the running processes are killed);
 * a second one or SIGTERM kills them and exits at once, report.json marked interrupted
 * synchronously (safety/signals.ts). Returns the function that removes the handlers.
 */
function handleStopSignals(s: RunState): () => void {
  return onStopSignal({
    graceful: () => {
      if (s.interrupted) return;
      s.interrupted = true;
      say(s, '\ninterrupted: stopping the backends; finished cells are kept (lenet-bench run --resume DIR continues)');
      for (const l of s.live) l.proc.kill();
      s.coldStartProcess?.kill();
    },
    kill: (how) => {
      [...s.live.map((l) => l.proc), ...(s.coldStartProcess ? [s.coldStartProcess] : [])].forEach((p) => p.kill());
      writeInterruptedReportSync(s.ctx, snapshot(s), how);
    },
  });
}
