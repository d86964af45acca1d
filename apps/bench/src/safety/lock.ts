/**
 * One writer per output folder. `run --out D`, `run --resume D` and `reproduce --out D` take an
 * exclusive lock on D before touching it: DIR/.lenet-bench.lock, created atomically (the JSON is
 * written to a temp file and hard-linked into place, which fails with EEXIST if a lock exists,
 * so a reader never sees a half-written lock). The lock names its holder (pid, host, command,
 * start time) and identifies it (the process's start time in /proc/<pid>/stat and the boot id),
 * because a pid alone is reused: a lock is stale when its pid is not running on this host, or runs
 * a different process (another start time), or was taken before the last reboot. A stale lock is
 * taken over with a note. The lock is removed when the command ends, also on process.exit.
 */
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';
import { writeFailed } from './write.js';

export const LOCK_FILE = '.lenet-bench.lock';

export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  startedAt: string;
  /** The holder's start time in clock ticks since boot (/proc/<pid>/stat field 22); absent in old locks. */
  procStart?: string;
  /** /proc/sys/kernel/random/boot_id when the lock was taken; absent in old locks. */
  bootId?: string;
}

/** Field 22 (starttime) of /proc/<pid>/stat, or null (no such process, or no /proc). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (comm) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

function commandLine(pid: number): string | null {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return null;
  }
}

function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

/** Why a lock on this host no longer has a live holder, or null when its holder still runs. */
function staleReason(holder: LockInfo): string | null {
  if (holder.bootId && bootId() && holder.bootId !== bootId()) return 'was taken before the last reboot';
  if (!isRunning(holder.pid)) return 'is no longer running';
  const now = holder.procStart ? processStartTime(holder.pid) : null;
  if (now && now !== holder.procStart) return 'is now another process (the pid was reused)';
  // A lock without the start time (written by an older lenet-bench): a pid that runs neither
  // node nor lenet-bench is not its holder.
  const program = commandLine(holder.pid);
  if (!holder.procStart && program !== null && !/node|lenet-bench/.test(program)) return `is now another program (${program.slice(0, 60)})`;
  return null;
}

export interface FolderLock {
  dir: string;
  file: string;
  /** Set when a stale lock was taken over: say so to the user. */
  note: string | null;
  /** Removes the lock (and the folder, if this lock created it and it is still empty). */
  release(): void;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

function readLock(file: string): LockInfo | null {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Partial<LockInfo>;
    if (typeof v.pid === 'number' && typeof v.host === 'string') {
      return {
        pid: v.pid,
        host: v.host,
        command: String(v.command ?? '?'),
        startedAt: String(v.startedAt ?? '?'),
        ...(typeof v.procStart === 'string' ? { procStart: v.procStart } : {}),
        ...(typeof v.bootId === 'string' ? { bootId: v.bootId } : {}),
      };
    }
  } catch {
    // unreadable or not JSON: handled below
  }
  return null;
}

const held = new Set<FolderLock>();
let exitHook = false;

/**
 * Takes the lock on `dir` (created if needed, with its parents: check it first with
 * checkOutputDir). Throws CliError naming the holder when another live process has it.
 */
export function lockFolder(dir: string, what: string): FolderLock {
  const created = !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, LOCK_FILE);
  const identity = { procStart: processStartTime(process.pid), bootId: bootId() };
  const me: LockInfo = {
    pid: process.pid,
    host: hostname(),
    command: process.argv.slice(2).join(' '),
    startedAt: new Date().toISOString(),
    ...(identity.procStart ? { procStart: identity.procStart } : {}),
    ...(identity.bootId ? { bootId: identity.bootId } : {}),
  };
  const tmp = `${file}.${process.pid}.tmp`;
  let note: string | null = null;
  try {
    try {
      writeFileSync(tmp, JSON.stringify(me) + '\n');
    } catch (err) {
      throw writeFailed(file, err); // a full disk: the temp file is removed below
    }
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, file);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 5) throw err;
      }
      const holder = readLock(file);
      if (holder && holder.host === me.host && holder.pid === me.pid) break; // taken twice by this process
      const stale = holder && holder.host === me.host ? staleReason(holder) : null;
      if (holder && stale) {
        // Move the stale lock aside (only one of several racing processes can rename it), and
        // check that what was moved is the lock judged stale, not a fresh one that replaced it.
        const aside = `${file}.stale.${process.pid}`;
        try {
          renameSync(file, aside);
        } catch {
          continue; // someone else took it over first: try again
        }
        const moved = readLock(aside);
        if (moved && (moved.pid !== holder.pid || moved.startedAt !== holder.startedAt)) {
          try {
            linkSync(aside, file); // a live lock: put it back
          } catch {
            // another lock appeared meanwhile; the loop reports it
          }
        } else {
          note = `took over a stale lock in ${dir}: pid ${holder.pid} (started ${holder.startedAt}, "lenet-bench ${holder.command}") ${stale}`;
        }
        unlinkSync(aside);
        continue;
      }
      if (!holder) {
        throw new CliError(`${what} ${dir} is locked (${file}): expected a readable lock naming its holder, got an unreadable file; if no lenet-bench is running there, delete it`);
      }
      const elsewhere = holder.host === me.host ? '' : ' (another host: its liveness cannot be checked from here)';
      throw new CliError(
        `${what} ${dir} is in use by another lenet-bench: pid ${holder.pid} on ${holder.host}, started ${holder.startedAt} ("lenet-bench ${holder.command}")${elsewhere}; wait for it to finish or choose another folder; if no lenet-bench is running there, delete ${file}`,
      );
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // already gone
    }
  }
  const lock: FolderLock = {
    dir,
    file,
    note,
    release() {
      if (!held.delete(lock)) return;
      try {
        const holder = readLock(file);
        if (holder && holder.pid === me.pid && holder.host === me.host) unlinkSync(file);
      } catch {
        // gone already
      }
      if (created) {
        try {
          if (readdirSync(dir).length === 0) rmdirSync(dir);
        } catch {
          // not empty or gone: keep
        }
      }
    },
  };
  held.add(lock);
  if (!exitHook) {
    exitHook = true;
    // process.exit (signals, the CLI's explicit exit) runs 'exit' listeners synchronously.
    process.on('exit', () => {
      for (const l of [...held]) l.release();
    });
  }
  return lock;
}
