/** Phase "plan": which cells this invocation runs (the rest finished in an earlier one), and the live display over them. */
import { relative } from 'node:path';
import { isComplete } from '../cells.js';
import { createRunDisplay } from '../live-display.js';
import { runProgress } from '../run-progress.js';
import { emit, say, type RunState } from '../state.js';
import { cellFile } from '../store.js';

export function planRun(s: RunState): void {
  const c = s.ctx.config;
  s.todo = c.backends.filter((b) => !isComplete(s.cells.get(b)));
  for (const b of c.backends) if (!s.todo.includes(b)) {
    emit(s, { type: 'skip', backend: b, reason: 'finished in an earlier run' });
    say(s, `${b}: already finished (${relative(process.cwd(), cellFile(s.ctx.dir, b))}), kept`);
  }
  s.display = createRunDisplay(s.ctx.json ? 'off' : s.ctx.progress, s.todo);
  s.progress = runProgress(c, s.live, s.todo, () => s.display);
}
