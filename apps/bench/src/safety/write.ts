/**
 * The one way lenet-bench writes a result file: atomically (temp file in the same folder, then
 * rename) and, when it fails, with an error that names the file. Node's own errors for a full
 * disk carry no path ("ENOSPC: no space left on device, write"), which is useless to a user.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { CliError } from '../errors.js';

/** What an errno means to a user, for "write failed <path>: <this>". */
function writeProblem(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOSPC':
      return 'disk full (ENOSPC)';
    case 'EDQUOT':
      return 'disk quota exceeded (EDQUOT)';
    case 'EACCES':
    case 'EPERM':
      return `no permission (${e.code})`;
    case 'EROFS':
      return 'a read-only filesystem (EROFS)';
    case 'EIO':
      return 'an input/output error of the device (EIO)';
    default:
      return e?.code ? `${e.code} (${String(e.message).split('\n')[0]})` : String((err as Error)?.message ?? err);
  }
}

/** A failed write of `path`, as the one-line error the CLI prints (exit 1). */
export function writeFailed(path: string, err: unknown): CliError {
  return new CliError(`write failed ${path}: ${writeProblem(err)}`, { cause: err });
}

let counter = 0;

/** Writes via a temp file in the same folder + rename, so readers never see a half-written file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${counter++}.tmp`;
  try {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw writeFailed(path, err);
  }
}

/**
 * The synchronous twin of writeFileAtomic, for the last moments of a process that is exiting
 * (SIGTERM, a second Ctrl-C): 'exit' handlers cannot await.
 */
export function writeFileAtomicSync(path: string, data: string | Uint8Array): void {
  const tmp = `${path}.${process.pid}.${counter++}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeFailed(path, err);
  }
}
