/**
 * What `run` shows while it works. On a TTY: a live block (cli-progress MultiBar, on stderr) with
 * the phase, the cell working now, the round, per-cell progress and the run's ETA, redrawn in
 * place; the runner's log lines print above it. Otherwise (pipes, CI logs) the log lines only, as
 * before; nothing in --json mode (the runner does not call log then).
 */
import cliProgress from 'cli-progress';
import { duration, int } from '../format.js';
import { hangingWrap } from '../terminal.js';

export interface CellProgress {
  id: string;
  /** 0..1 of this cell's share of the current phase. */
  fraction: number;
  /** e.g. "0.62 epoch · 1,080 img/s" or "4/12 windows" or "failed". */
  detail: string;
}

export interface PhaseState {
  /** "starting", "training", "agreement", "inference". */
  phase: string;
  /** The cell working now (null between cells). */
  current: string | null;
  round: number | null;
  /** Total rounds when known (inference); training rounds are open-ended. */
  rounds: number | null;
  /** 0..1 of the phase. */
  fraction: number;
  /** Seconds until the whole run ends, null while there is nothing to extrapolate from. */
  etaSeconds: number | null;
  cells: CellProgress[];
}

export interface RunDisplay {
  /** A log line: above the live block on a TTY, a plain line otherwise. */
  log(line: string): void;
  /** The live state (ignored unless on a TTY). */
  update(state: PhaseState): void;
  stop(): void;
}

const BAR = 12;
const bar = (f: number) => {
  const full = Math.round(Math.max(0, Math.min(1, f)) * BAR);
  return `${'█'.repeat(full)}${'░'.repeat(BAR - full)}`;
};
/** Cuts a line to the terminal width (the live block must never wrap, or redrawing breaks). */
const fit = (s: string, width: number) => ([...s].length <= width ? s : `${[...s].slice(0, Math.max(1, width - 1)).join('')}…`);

export function etaText(seconds: number | null): string {
  return seconds === null ? 'ETA …' : `ETA ${duration(Math.max(0, seconds))}`;
}

/** The header line of the live block: "training · run ETA 42.0s · round 3 · now ort-node ███░ 40%". */
export function headerLine(s: PhaseState): string {
  const round = s.round === null ? '' : ` · round ${s.round + 1}${s.rounds ? `/${s.rounds}` : ''}`;
  // The ETA comes early: a narrow terminal cuts the end of the line.
  return `${s.phase} · run ${etaText(s.etaSeconds)}${round}${s.current ? ` · now ${s.current}` : ''} ${bar(s.fraction)} ${Math.round(s.fraction * 100)}%`;
}

export function cellLine(c: CellProgress, nameWidth: number): string {
  return `  ${c.id.padEnd(nameWidth)} ${bar(c.fraction)} ${c.detail}`;
}

export function createRunDisplay(mode: 'tty' | 'lines' | 'off', cellIds: string[]): RunDisplay {
  if (mode !== 'tty') {
    return { log: (line) => (mode === 'off' ? undefined : void process.stderr.write(`${line}\n`)), update() {}, stop() {} };
  }
  const width = () => Math.max(20, (process.stderr.columns || 80) - 1);
  const multi = new cliProgress.MultiBar({
    format: (_options: unknown, _params: unknown, payload: { line?: string }) => fit(payload.line ?? '', width()),
    hideCursor: true,
    clearOnComplete: true,
    stream: process.stderr,
    fps: 5,
    linewrap: false,
    // Log lines push the block down: every line must be redrawn, changed or not.
    forceRedraw: true,
  });
  const nameWidth = Math.max(...cellIds.map((id) => id.length), 4);
  const header = multi.create(1, 0, { line: 'starting' });
  const rows = new Map(cellIds.map((id) => [id, multi.create(1, 0, { line: cellLine({ id, fraction: 0, detail: 'starting' }, nameWidth) })]));
  let stopped = false;
  return {
    log(line) {
      if (stopped) process.stderr.write(`${line}\n`);
      // The live block turns the terminal's line wrapping off, so long lines are wrapped here.
      // Each piece clears the rest of its row: it overwrites a row of the block drawn before.
      else for (const piece of hangingWrap(line, width(), 2)) multi.log(`${piece}\x1b[0K\n`);
    },
    update(s) {
      if (stopped) return;
      header.update(0, { line: headerLine(s) });
      for (const c of s.cells) rows.get(c.id)?.update(0, { line: cellLine(c, nameWidth) });
    },
    stop() {
      if (stopped) return;
      stopped = true;
      multi.update(); // flush the log lines still buffered
      multi.stop();
    },
  };
}

/** "0.62 epoch · 1,080 img/s · 12.3 s" for a training cell. */
export function trainingDetail(epochs: number, imagesPerSecond: number | null, seconds: number, done: string | null): string {
  const e = `${epochs.toFixed(epochs < 10 ? 2 : 1)} epoch${epochs === 1 ? '' : 's'}`;
  return `${e}${imagesPerSecond ? ` · ${int(imagesPerSecond)} img/s` : ''} · ${seconds.toFixed(1)} s${done ? ` · ${done}` : ''}`;
}
