/** Errors the CLI reports as one line (exit 1) instead of a stack trace. */

/** A mistake on the command line: usage is printed and the exit code is 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A user-facing failure that is not a usage mistake (bad file, missing data, ...): exit 1. */
export class CliError extends Error {
  override name = 'CliError';
}

/**
 * The CLI prints these as one line. Anything whose class name ends in "Error" and comes from our
 * packages (SpecError, IdxError, ChecksumError, SafetensorsError, ...) is a user-facing error;
 * the stack is shown only with --debug.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name && err.name !== 'Error' && err.name !== 'CliError' ? `${err.name}: ` : '';
    return `${name}${err.message}`.split('\n').join('\n  ');
  }
  return String(err);
}

/**
 * Exit codes of lenet-bench (README "Exit codes" has the same table):
 * 0 ok; 1 a data/format/runtime error; 2 a usage error; 3 completed, but one or more backend
 * cells (run) or seed runs (reproduce) failed; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM).
 */
export const EXIT = { ok: 0, error: 1, usage: 2, cellsFailed: 3, interrupted: 130, terminated: 143 } as const;

/** A filesystem error (EEXIST, EPERM, EISDIR, ...) described as one line naming the path. */
export function describeFsError(err: unknown): string | null {
  const e = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof e.code !== 'string' || typeof e.syscall !== 'string') return null;
  const what: Record<string, string> = {
    EEXIST: 'a path that already exists',
    EPERM: 'an operation not permitted',
    EACCES: 'no permission',
    EISDIR: 'a folder where a file was expected',
    ENOTDIR: 'a file where a folder was expected',
    ENOENT: 'a missing file or folder',
    ELOOP: 'a symbolic link loop',
    EROFS: 'a read-only filesystem',
    ENOSPC: 'no space left on the device',
    EMFILE: 'too many open files',
  };
  const dest = (e as { dest?: string }).dest;
  const where = e.path ? `${e.path}${dest ? ` -> ${dest}` : ''}` : 'unknown path';
  return `${e.syscall} failed (${where}): expected a usable file or folder, got ${what[e.code] ?? 'an error'} (${e.code})`;
}
