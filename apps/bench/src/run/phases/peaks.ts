/**
 * The machine's peaks (native and WebAssembly GFLOP/s, peaks-child.ts), measured in their own
 * process between the inference rounds (phases/inference.ts), so they see the same machine state
 * as the backends. One window per kind per round; the result is the median with its interval.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { medianInterval } from '../../stats/intervals.js';
import { CellProcess } from '../cell-process.js';
import { logFile } from '../store.js';
import type { Report } from '../types.js';

export const PEAKS_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'peaks-child.js');

type PeakKind = 'native' | 'wasm';
const KINDS: readonly PeakKind[] = ['native', 'wasm'];

export class PeaksProbe {
  private readonly windows: Record<PeakKind, number[]> = { native: [], wasm: [] };
  private readonly info: Record<PeakKind, { detail: string | null; unavailable: string | null }> = { native: { detail: null, unavailable: null }, wasm: { detail: null, unavailable: null } };

  private constructor(private readonly proc: CellProcess) {}

  static async start(dir: string): Promise<PeaksProbe> {
    await mkdir(join(dir, 'logs'), { recursive: true });
    return new PeaksProbe(CellProcess.fork(PEAKS_SCRIPT, logFile(dir, 'peaks'), 'peaks', () => {}));
  }

  /** One window per kind (a kind that turned out unavailable is not asked again). */
  async measureRound(round: number, windowSeconds: number, threads: number | null): Promise<void> {
    if (this.proc.failed) return;
    for (const kind of KINDS) {
      if (this.info[kind].unavailable) continue;
      try {
        const m = await this.proc.request({ type: 'peak', kind, seconds: Math.max(0.2, windowSeconds), round, threads }, ['peakWindow'], 120);
        if (m.type === 'peakWindow') {
          this.windows[kind].push(...m.gflops);
          this.info[kind] = { detail: m.detail, unavailable: m.unavailable };
        }
      } catch (err) {
        this.info[kind].unavailable = (err as Error).message;
      }
    }
  }

  /** Closes the process; the report's `peaks`. */
  async finish(): Promise<NonNullable<Report['peaks']>> {
    await this.proc.close();
    const result = (kind: PeakKind) => ({
      detail: this.info[kind].detail,
      gflops: medianInterval(this.windows[kind]),
      windows: this.windows[kind].map((g) => Math.round(g * 100) / 100),
      unavailable: this.windows[kind].length ? null : (this.info[kind].unavailable ?? 'not measured'),
    });
    return { native: result('native'), wasm: result('wasm') };
  }
}
