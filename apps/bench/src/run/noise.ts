/**
 * What else the machine was doing while we measured: load average, CPU clock and hypervisor
 * steal time, read from /proc where the OS exposes them (Linux); null elsewhere. Sampled before
 * the run and after every measurement round, so a reader can tell a quiet run from a noisy one.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface NoiseSample {
  /** Seconds since the run started. */
  t: number;
  /** 1-minute load average. */
  load1: number;
  /** Mean current clock of the CPUs in MHz (/proc/cpuinfo), null when not exposed. */
  cpuMHz: number | null;
  /** Share of CPU time stolen by the hypervisor since the previous sample (/proc/stat), null when not exposed. */
  stealPct: number | null;
  /** Share of CPU time busy (not idle/iowait) since the previous sample, null when not exposed. */
  busyPct: number | null;
}

interface CpuTimes {
  total: number;
  idle: number;
  steal: number;
}

function readCpuTimes(): CpuTimes | null {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return null;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice (guest is inside user)
    const total = v.slice(0, 8).reduce((a, b) => a + (b || 0), 0);
    return { total, idle: (v[3] ?? 0) + (v[4] ?? 0), steal: v[7] ?? 0 };
  } catch {
    return null;
  }
}

function readCpuMHz(): number | null {
  try {
    const mhz = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('cpu MHz'))
      .map((l) => Number(l.split(':')[1]));
    const ok = mhz.filter((x) => Number.isFinite(x) && x > 0);
    return ok.length ? Math.round(ok.reduce((a, b) => a + b, 0) / ok.length) : null;
  } catch {
    return null;
  }
}

/** Samples noise indicators; each call reports steal/busy since the previous call. */
export class NoiseMonitor {
  private last = readCpuTimes();
  private readonly t0 = performance.now();
  readonly samples: NoiseSample[] = [];

  sample(): NoiseSample {
    const now = readCpuTimes();
    let stealPct: number | null = null;
    let busyPct: number | null = null;
    if (now && this.last && now.total > this.last.total) {
      const dt = now.total - this.last.total;
      stealPct = Math.round((1000 * (now.steal - this.last.steal)) / dt) / 10;
      busyPct = Math.round((1000 * (dt - (now.idle - this.last.idle))) / dt) / 10;
    }
    this.last = now;
    const s: NoiseSample = {
      t: Math.round((performance.now() - this.t0) / 100) / 10,
      load1: Math.round(loadavg()[0]! * 100) / 100,
      cpuMHz: readCpuMHz(),
      stealPct,
      busyPct,
    };
    this.samples.push(s);
    return s;
  }
}
