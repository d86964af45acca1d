// Noise awareness of `lenet-bench run` (src/run/noise.ts): the CPU time of our own process tree,
// the share taken by processes outside it, and the report's warning when that share is large.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { BUSY_MACHINE_PCT, NoiseMonitor, othersDuringRun, processTreeTicks } from '../src/run/noise.js';
import { headerWarnings } from '../src/report/tables.js';
import type { Report } from '../src/run/types.js';

const linux = process.platform === 'linux';
const burn = (ms: number) => `const e = Date.now() + ${ms}; while (Date.now() < e) {}`;
const exited = (p: ReturnType<typeof spawn>) => new Promise((r) => p.once('exit', r));

describe.runIf(linux)('process-tree CPU time', () => {
  it('counts a child that burns CPU, also after it exited', async () => {
    const before = processTreeTicks()!;
    expect(before).toBeGreaterThan(0);
    await exited(spawn(process.execPath, ['-e', burn(600)], { stdio: 'ignore' }));
    // 0.6 s of CPU = 60 ticks at USER_HZ 100; a loaded machine may give the child less than all of it.
    expect(processTreeTicks()! - before).toBeGreaterThan(15);
  });

  it('attributes a process outside the tree to "others"', async () => {
    const monitor = new NoiseMonitor();
    monitor.sample();
    // sh exits at once, so the background node is re-parented away from us: not ours.
    await exited(spawn('sh', ['-c', `${JSON.stringify(process.execPath)} -e '${burn(800)}' >/dev/null 2>&1 &`], { stdio: 'ignore' }));
    await new Promise((r) => setTimeout(r, 900));
    const s = monitor.sample();
    expect(s.othersPct).not.toBeNull();
    // One CPU of the machine's, busy for most of the interval: well above a quiet machine's share.
    expect(s.othersPct!).toBeGreaterThan(100 / (2 * (await import('node:os')).availableParallelism()));
  });
});

describe('busy-machine warning', () => {
  const report = (others: (number | null)[]) =>
    ({ results: [], noise: [{ t: 0, load1: 1, cpuMHz: null, stealPct: null, busyPct: null, othersPct: null }, ...others.map((o, i) => ({ t: i + 1, load1: 1, cpuMHz: null, stealPct: 0, busyPct: 90, othersPct: o }))] }) as unknown as Report;

  it('uses the median over the rounds, leaving out the sample before the run', () => {
    expect(othersDuringRun(report([2, 60, 3]).noise!)).toBe(3);
    expect(othersDuringRun(report([]).noise!)).toBeNull();
    expect(othersDuringRun([{ t: 0, load1: 1, cpuMHz: null, stealPct: null, busyPct: null }, { t: 1, load1: 1, cpuMHz: null, stealPct: null, busyPct: null }])).toBeNull(); // older reports
  });

  it('warns when other processes took more than the threshold, not otherwise', () => {
    expect(headerWarnings(report([40, 55, 48])).join(' ')).toMatch(/Other processes used 48% of the CPU/);
    expect(headerWarnings(report([2, 3, BUSY_MACHINE_PCT]))).toEqual([]);
  });
});
