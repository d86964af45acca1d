/**
 * Output locations are checked before any work starts, so a bad --out fails in a second with
 * one line instead of after an hour of training (or never: Node 20's recursive mkdir spins
 * forever on /proc paths). Nothing is created here except a probe file that is removed at once.
 */
import { closeSync, lstatSync, openSync, realpathSync, statfsSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { CliError, UsageError } from '../errors.js';

/** Where a path came from: an explicit flag (a usage mistake, exit 2) or a default (exit 1). */
export interface OutputOrigin {
  /** The flag, e.g. "--out"; null when the location is a default. */
  flag: string | null;
}

/** statfs magic numbers of kernel pseudo-filesystems where files cannot be created normally. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc',
  0x62656572: 'sysfs',
  0x1cd1: 'devpts',
  0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2',
  0x64626720: 'debugfs',
  0x74726163: 'tracefs',
  0x73636673: 'securityfs',
  0xcafe4a11: 'bpf',
  0x62656570: 'configfs',
  0x65735543: 'fusectl',
  0x6e736673: 'nsfs',
  0x6165676c: 'pstore',
  0x19800202: 'mqueue',
};

/** Folders that are never a place for results, whatever filesystem backs them. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
const ALLOWED_UNDER_PSEUDO = ['/dev/shm'];

function under(path: string, root: string): boolean {
  return path === root || path.startsWith(root + sep);
}

function fail(origin: OutputOrigin, path: string, expected: string, got: string): never {
  const where = origin.flag ? `${origin.flag} ${path}` : path;
  const message = `cannot write output (${where}): expected ${expected}, got ${got}`;
  throw origin.flag ? new UsageError(message) : new CliError(message);
}

function errnoText(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return `no permission (${err.code})`;
    case 'ELOOP':
      return 'a symbolic link loop (ELOOP)';
    case 'ENOTDIR':
      return 'a path through a file (ENOTDIR)';
    case 'EROFS':
      return 'a read-only filesystem (EROFS)';
    case 'ENAMETOOLONG':
      return 'a name that is too long (ENAMETOOLONG)';
    default:
      return `${err.code ?? 'an error'} (${err.message.split('\n')[0]})`;
  }
}

/** Refuses paths on kernel pseudo-filesystems (by prefix of the real path and by statfs type). */
function checkFilesystem(origin: OutputOrigin, path: string, existing: string, expected: string): void {
  let real = existing;
  try {
    real = realpathSync(existing);
  } catch {
    // checked by the caller's stat
  }
  for (const p of [resolve(path), real]) {
    const root = PSEUDO_ROOTS.find((r) => under(p, r));
    if (root && !ALLOWED_UNDER_PSEUDO.some((a) => under(p, a))) fail(origin, path, expected, `a path under ${root}, a kernel pseudo-filesystem`);
  }
  try {
    const type = Number(statfsSync(real).type);
    const name = PSEUDO_FS[type];
    if (name) fail(origin, path, expected, `a path on ${name}, a kernel pseudo-filesystem`);
  } catch (err) {
    if (err instanceof UsageError || err instanceof CliError) throw err;
    // statfs unavailable: the prefix check above stands
  }
}

/** stat that returns null for a path that does not exist and throws a one-line error for the rest. */
function statOrNull(origin: OutputOrigin, path: string, shown: string, expected: string): Stats | null {
  try {
    return statSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') {
      // A dangling symlink: stat fails, lstat succeeds. Writing through it would create its target
      // somewhere unexpected; say so instead.
      try {
        if (lstatSync(path).isSymbolicLink()) fail(origin, shown, expected, `a dangling symbolic link (${path})`);
      } catch (inner) {
        if (inner instanceof UsageError || inner instanceof CliError) throw inner;
      }
      return null;
    }
    return fail(origin, shown, expected, errnoText(e) + (path !== shown ? ` at ${path}` : ''));
  }
}

/** Creates and removes a probe file in `dir`: the only reliable test of "can I write here". */
function probe(origin: OutputOrigin, shown: string, dir: string, expected: string): void {
  const file = join(dir, `.lenet-bench-probe-${process.pid}-${Date.now()}`);
  let fd: number;
  try {
    fd = openSync(file, 'wx');
  } catch (err) {
    return fail(origin, shown, expected, `a folder that cannot be written: ${dir} (${errnoText(err as NodeJS.ErrnoException)})`);
  }
  closeSync(fd);
  try {
    unlinkSync(file);
  } catch {
    // removed by someone else: fine
  }
}

/** Walks up from `path` to the first existing ancestor; it must be a writable folder. */
function checkAncestors(origin: OutputOrigin, shown: string, path: string, expected: string): void {
  let dir = dirname(path);
  for (;;) {
    const s = statOrNull(origin, dir, shown, expected);
    if (s) {
      if (!s.isDirectory()) fail(origin, shown, expected, `a path through a file (${dir} is not a folder)`);
      checkFilesystem(origin, shown, dir, expected);
      probe(origin, shown, dir, expected);
      return;
    }
    const up = dirname(dir);
    if (up === dir) fail(origin, shown, expected, 'a path with no existing parent folder');
    dir = up;
  }
}

/**
 * A folder the command will create (if needed) and write into. Throws UsageError (flag given) or
 * CliError (default location) with one line naming the flag, the path, what was expected and
 * what was found. Returns the absolute path.
 */
export function checkOutputDir(path: string, flag: string | null = '--out'): string {
  const origin: OutputOrigin = { flag };
  const abs = resolve(path);
  const expected = 'a writable folder on a regular filesystem';
  checkFilesystem(origin, abs, abs, expected);
  const s = statOrNull(origin, abs, abs, expected);
  if (s) {
    if (!s.isDirectory()) fail(origin, abs, expected, s.isFile() ? 'an existing file' : 'something that is not a folder');
    checkFilesystem(origin, abs, abs, expected);
    probe(origin, abs, abs, expected);
  } else {
    checkAncestors(origin, abs, abs, expected);
  }
  return abs;
}

/** A file the command will write atomically (temp file in the same folder + rename). */
export function checkOutputFile(path: string, flag: string | null = '--out'): string {
  const origin: OutputOrigin = { flag };
  const abs = resolve(path);
  const expected = 'a writable file path on a regular filesystem';
  if (path.endsWith('/') || path.endsWith(sep)) fail(origin, abs, expected, 'a folder path (ends with /)');
  checkFilesystem(origin, abs, abs, expected);
  const s = statOrNull(origin, abs, abs, expected);
  if (s) {
    if (s.isDirectory()) fail(origin, abs, expected, 'an existing folder');
    if (!s.isFile()) fail(origin, abs, expected, 'an existing special file (not a regular file)');
  }
  checkAncestors(origin, abs, abs, expected);
  return abs;
}
