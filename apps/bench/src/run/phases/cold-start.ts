/** Phase "cold start": coldStartProcesses fresh processes per live backend cell, taking turns (cold-start.ts); the result goes into each row. */
import { measureColdStarts } from '../cold-start.js';
import { canWork, say, stopIfInterrupted, type RunState } from '../state.js';
import { logFile } from '../store.js';

export async function measureColdStart(s: RunState): Promise<void> {
  const ctx = s.ctx;
  const processes = ctx.config.coldStartProcesses ?? 0;
  const todo = s.live.filter((l) => canWork(s, l)).filter((l) => l.cell.kind === 'backend' && l.cell.package);
  if (processes >= 1 && todo.length) {
    say(s, `cold start: ${processes} fresh process${processes > 1 ? 'es' : ''} per backend, taking turns (import, session, first predict, first step)`);
    const results = await measureColdStarts({
      cells: todo.map((l) => ({ id: l.id, backend: l.job.backend, packageName: l.cell.package!, threads: l.job.threads, canTrain: l.canTrain })),
      processes,
      config: ctx.config,
      train: ctx.train,
      logPath: (id) => logFile(ctx.dir, id),
      say: (line) => say(s, line),
      stopped: () => s.interrupted,
      onProcess: (p) => (s.coldStartProcess = p),
    });
    for (const l of todo) {
      const r = results.get(l.id);
      if (!r) continue;
      l.cell.coldStart = r.result;
      if (r.error) ctx.notes.push(`${l.id}: ${r.error}`);
    }
  }
  stopIfInterrupted(s);
}
