/**
 * What the run's live display (live-display.ts) shows while the phases run: the phase, the cell
 * working now, per-cell progress and the run's ETA. Training ETA: each cell's remaining recipe (or
 * budget) at its measured img/s, scaled by the wall time the windows really took (evaluations,
 * switching); then the inference windows at their planned length. Inference ETA: the remaining
 * windows at the measured pace.
 */
import { trainingDetail, type CellProgress, type RunDisplay } from './live-display.js';
import type { LiveCell as Live } from './live-cell.js';
import type { RunConfig } from './types.js';

export type RunProgress = ReturnType<typeof runProgress>;

export function runProgress(c: RunConfig, live: Live[], ids: string[], display: () => RunDisplay | null) {
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

