/**
 * What else the machine was doing while we measured: load average, CPU clock, hypervisor steal
 * time and the CPU used by processes outside this run, read from /proc where the OS exposes them
 * (Linux); null elsewhere. Sampled before the run and after every measurement round, so a reader
 * can tell a quiet run from a noisy one.
 *
 * Why "others" and not the load average: the run itself keeps one or two CPUs busy, and a build
 * that ran just before it leaves the 1-minute load high for a while, so load says little about
 * contention. What matters is CPU time taken by processes that are not ours, during the windows:
 * all busy time (/proc/stat) minus steal minus the CPU time of this process tree.
 */
import { readdirSync, readFileSync } from 'node:fs';
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
  /**
   * Share of the machine's CPU time used by processes outside this run (busy − steal − this
   * process tree) since the previous sample, null when not exposed (also in reports before it existed).
   */
  othersPct?: number | null;
}

/** Above this share of the machine's CPU taken by other processes (median over the rounds), the report warns. */
export const BUSY_MACHINE_PCT = 15;

/** Median share of the CPU other processes used during the run, null when not measured. */
export function othersDuringRun(samples: readonly NoiseSample[]): number | null {
  const xs = samples
    .slice(1)
    .map((s) => s.othersPct)
    .filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
    .sort((a, b) => a - b);
  if (!xs.length) return null;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2;
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

/**
 * CPU time (clock ticks, the unit of /proc/stat) of the process tree rooted at `root`: utime + stime
 * of every live process in it, plus cutime + cstime (children that already exited and were reaped
 * hand their time to their parent there, so the sum does not drop when a cell ends).
 */
export function processTreeTicks(root: number = process.pid): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const d of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // exited while we looked
    }
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] = state (field 3), f[1] = ppid, f[11..14] = utime stime cutime cstime (fields 14–17).
    parent.set(Number(d), Number(f[1]));
    ticks.set(Number(d), Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]));
  }
  if (!ticks.has(root)) return null;
  let sum = 0;
  for (const [pid, t] of ticks) {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 0 && hops < 64; p = parent.get(p), hops++) {
      if (p === root) {
        sum += t;
        break;
      }
    }
  }
  return sum;
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
  private lastOurs = processTreeTicks();
  private readonly t0 = performance.now();
  readonly samples: NoiseSample[] = [];

  sample(): NoiseSample {
    const now = readCpuTimes();
    let stealPct: number | null = null;
    let busyPct: number | null = null;
    let othersPct: number | null = null;
    const ours = processTreeTicks();
    if (now && this.last && now.total > this.last.total) {
      const dt = now.total - this.last.total;
      const busy = dt - (now.idle - this.last.idle);
      const steal = now.steal - this.last.steal;
      stealPct = Math.round((1000 * steal) / dt) / 10;
      busyPct = Math.round((1000 * busy) / dt) / 10;
      if (ours !== null && this.lastOurs !== null) othersPct = Math.max(0, Math.round((1000 * (busy - steal - (ours - this.lastOurs))) / dt) / 10);
    }
    this.last = now;
    this.lastOurs = ours;
    const s: NoiseSample = {
      t: Math.round((performance.now() - this.t0) / 100) / 10,
      load1: Math.round(loadavg()[0]! * 100) / 100,
      cpuMHz: readCpuMHz(),
      stealPct,
      busyPct,
      othersPct,
    };
    this.samples.push(s);
    return s;
  }
}
