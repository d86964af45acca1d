import { isAbsolute, resolve } from 'node:path';

/**
 * `pnpm lenet-bench` runs with the repo root as cwd; INIT_CWD is where the user typed the
 * command, so relative paths are taken from there.
 */
export function userPath(p: string): string {
  if (isAbsolute(p)) return p;
  return resolve(process.env.INIT_CWD ?? process.cwd(), p);
}
