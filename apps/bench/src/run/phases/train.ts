/**
 * Phase "train": every cell that trains (and has not in an earlier invocation) trains the recipe
 * in windows of ~sliceSeconds, round-robin, the order rotated every round, so only one backend
 * works at a time. A cell's training ends at the target accuracy (quick profile), at the end of
 * the recipe, or at its time budget (the budget rule: budget.ts); then it evaluates its final
 * weights and its row is written.
 */
import { numClasses } from '@lenet/model';
import { duration, int, pct } from '../../format.js';
import { decideBudget } from '../budget.js';
import { accuracyText, rotate, trainingDone } from '../cells.js';
import type { LiveCell as Live } from '../live-cell.js';
import { trainingThroughput } from '../results.js';
import { canWork, emit, failCell, saveRunning, say, stopIfInterrupted, TIMEOUT, type RunState } from '../state.js';
import { writeCell } from '../store.js';
import type { ChildMessage } from '../types.js';

export async function trainInWindows(s: RunState): Promise<void> {
  const c = s.ctx.config;
  const trainers = s.live.filter((l) => canWork(s, l) && l.canTrain && !trainingDone(s.cells.get(l.id)));
  let active = [...trainers];
  let round = 0;
  let lastReport = performance.now();
  if (active.length) say(s, `training ${active.map((l) => l.id).join(', ')} in windows of ~${c.sliceSeconds ?? 2} s, taking turns`);
  while (active.length && !s.interrupted) {
    for (const l of rotate(active, round)) {
      if (!canWork(s, l)) continue;
      const remaining = l.budget === null ? Infinity : l.budget - l.trained;
      const grant = Math.max(0.05, Math.min(c.sliceSeconds ?? 2, remaining));
      s.progress?.training(l, round);
      let m: ChildMessage;
      try {
        m = await l.proc.request({ type: 'train', seconds: grant, round }, ['slice'], Math.max(grant * 30, 600));
      } catch (err) {
        await failCell(s, l, err);
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
        const fastest = Math.max(...trainers.filter((t) => t.warmSeconds > 0).map((t) => t.warmImages / t.warmSeconds));
        const decision = decideBudget(
          c,
          { kind: l.cell.kind, windows: l.windows, trainedSeconds: l.trained, warmSeconds: l.warmSeconds, warmImages: l.warmImages, budgetSeconds: l.budget, projectionChecked: l.projectionChecked },
          fastest,
        );
        if (decision.checked) l.projectionChecked = true;
        if (decision.cut) {
          l.budget = decision.cut.budgetSeconds;
          l.budgetReason = decision.cut.reason;
          say(s, `${l.id}: budget-limited: ${l.budgetReason}`);
        }
        if (decision.exhausted) end = 'budget';
      }
      if (end) {
        await finishTraining(s, l, end);
        if (l.cell.status === 'ok') await writeCell(s.ctx.dir, l.cell);
      }
    }
    active = active.filter((l) => canWork(s, l) && !l.cell.training);
    s.progress?.training(null, round);
    s.noise.sample();
    round++;
    if (performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      for (const l of trainers) s.cells.set(l.id, l.cell);
      await saveRunning(s, false);
      say(s, `round ${round}: ${trainers.map((l) => `${l.id} ${l.trained.toFixed(0)} s${l.cell.training ? ' (done)' : ''}`).join(', ')}`);
    }
  }
  for (const l of s.live) if (l.cell.training || l.cell.trainingSkipped) s.cells.set(l.id, l.cell);
  stopIfInterrupted(s);
}

/** Test images for a cell's final evaluation: the full split unless that would take long on this backend. */
export function finalEvalImages(s: RunState, l: Live): number {
  const full = s.ctx.test.count;
  // From the learning-curve evaluations' pace we cannot tell the time; use the training pace:
  // inference is ~3x cheaper per image than a training step.
  const ips = l.images > 0 && l.trained > 0 ? (3 * l.images) / l.trained : Infinity;
  if (full / ips > FULL_EVAL_MAX_SECONDS) return Math.min(full, s.ctx.config.evalImages ?? full);
  return full;
}
const FULL_EVAL_MAX_SECONDS = 20;

/** Ends a cell's training: the final evaluation, its throughput interval, its budget line. */
async function finishTraining(s: RunState, l: Live, reason: 'budget' | 'target' | 'done'): Promise<void> {
  const c = s.ctx.config;
  try {
    await l.proc.request({ type: 'finish', reason, evalImages: finalEvalImages(s, l) }, ['evaluation'], TIMEOUT.finish);
  } catch (err) {
    await failCell(s, l, err);
    return;
  }
  const t = l.cell.training;
  if (!t) return;
  t.throughput = trainingThroughput(t.windows ?? []);
  if (t.throughput) t.imagesPerSecond = t.throughput.estimate;
  t.epochSeconds = c.trainCount / Math.max(t.imagesPerSecond, 1e-9);
  if (t.projected) t.recipeSeconds = t.epochSeconds * c.epochs;
  t.budget = { maxSeconds: l.budget, maxStepsPerEpoch: c.maxStepsPerEpoch, reason: reason === 'budget' ? `budget-limited: ${l.budgetReason ?? t.budget.reason}` : t.budget.reason };
  const last = t.curve?.at(-1);
  emit(s, { type: 'trained', backend: l.id, reason, seconds: t.trainSeconds, accuracy: last?.accuracy ?? null });
  say(
    s,
    `${l.id}: training ended (${reason === 'target' ? `reached ${pct(c.targetAccuracy, 0)}` : reason === 'budget' ? 'budget' : 'recipe done'}) after ${duration(t.trainSeconds)} of training, ` +
      `${int(t.imagesPerSecond)} img/s, learning-curve accuracy ${last ? accuracyText(last.accuracy, numClasses(c.modelSpec)) : '–'}`,
  );
}
