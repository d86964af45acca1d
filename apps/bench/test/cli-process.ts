// Runs the built CLI (dist/cli.js) without blocking the test worker: a long spawnSync starves
// vitest's worker RPC ("Timeout calling onTaskUpdate") on a busy machine.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Killed (SIGKILL) after this long; default 10 minutes. */
  timeoutMs?: number;
  /** The process's working directory too (INIT_CWD alone is what pnpm scripts pass). */
  chdir?: boolean;
}

/** The CLI in `cwd` (INIT_CWD: where relative paths are taken from), with CI=1 (no TTY progress). */
export function runCli(args: string[], cwd: string, env: Record<string, string> = {}, options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: options.chdir ? cwd : undefined, env: { ...process.env, INIT_CWD: cwd, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * A user mistake as the CLI must report it: exit `code`, one line "error: ..." matching
 * `pattern` (plus the usage hint for exit 2), never a stack trace or "unexpected error".
 */
export function expectOneLineError(r: CliResult, code: number, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(code);
  const lines = r.stderr.trim().split('\n');
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
  expect(lines.length, r.stderr).toBe(code === 2 ? 2 : 1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).not.toMatch(/unexpected error/);
}
