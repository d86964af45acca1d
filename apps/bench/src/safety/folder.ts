/** Output folders of long commands: checked before any work, then locked for this process. */
import { checkOutputDir } from './outputs.js';
import { lockFolder, type FolderLock } from './lock.js';

/**
 * Checks `dir` (one-line error naming `flag` and the path), creates it and takes its lock.
 * `flag` is null for a default location. A stale lock taken over is reported on stderr.
 */
export function claimOutputFolder(dir: string, flag: string | null): FolderLock {
  const abs = checkOutputDir(dir, flag);
  const lock = lockFolder(abs, flag ?? 'output folder');
  if (lock.note) process.stderr.write(`note: ${lock.note}\n`);
  return lock;
}

/** A path quoted for a shell command line when it needs it ("continue with: ..." hints). */
export function shellQuote(path: string): string {
  if (/^[A-Za-z0-9_\-./:=@%+,]+$/.test(path)) return path;
  return `'${path.replace(/'/g, `'\\''`)}'`;
}
