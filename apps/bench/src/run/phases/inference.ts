/**
 * Phase "inference" (with the peaks): inferenceRounds rounds; in each, every live cell (order
 * rotated per round) measures one window per batch size (the batch order reversed every other
 * round), then the peaks process measures one window per kind (phases/peaks.ts).
 */
import { rotate } from '../cells.js';
import { canWork, failCell, say, stopIfInterrupted, type RunState } from '../state.js';
import { PeaksProbe } from './peaks.js';

export async function measureInference(s: RunState): Promise<void> {
  const c = s.ctx.config;
  const batchSizes = c.batchSizes ?? [1, 256];
  const inferers = s.live.filter((l) => canWork(s, l));
  const peaks = c.peaks !== false && inferers.length ? await PeaksProbe.start(s.ctx.dir) : null;
  const rounds = c.inferenceRounds ?? 1;
  const windowSeconds = c.windowSeconds ?? c.inferenceSeconds / (rounds * batchSizes.length);
  if (inferers.length) say(s, `inference: ${rounds} rounds of ${batchSizes.length} windows (batch ${batchSizes.join(', ')}) of ~${windowSeconds.toFixed(2)} s per backend, taking turns`);
  for (let r = 0; r < rounds && !s.interrupted; r++) {
    for (const l of rotate(inferers, r)) {
      if (!canWork(s, l)) continue;
      for (const bs of r % 2 ? [...batchSizes].reverse() : batchSizes) {
        s.progress?.inference(l, bs, r, rounds, batchSizes.length, inferers);
        try {
          const m = await l.proc.request({ type: 'infer', batchSize: bs, seconds: windowSeconds, round: r }, ['window'], Math.max(120, windowSeconds * 60));
          if (m.type === 'window') {
            l.inferWindows.push(m.window);
            const pool = l.samples.get(bs) ?? [];
            pool.push(...m.samplesMs);
            l.samples.set(bs, pool);
          }
        } catch (err) {
          await failCell(s, l, err);
          break;
        }
      }
    }
    await peaks?.measureRound(r, windowSeconds, c.threads);
    s.noise.sample();
  }
  if (peaks) s.peaks = await peaks.finish();
  stopIfInterrupted(s);
}
