/** The run folder: atomic writes, cell files, the repo root for the default reports/ folder. */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BackendResult } from './types.js';
import { writeFileAtomic } from '../safety/write.js';

export { writeFileAtomic };

/** The monorepo root (folder with pnpm-workspace.yaml above this package), else the cwd. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/** reports/2026-11-26T11-39-37Z style folder name (sortable, no colons). */
export function timestampName(date = new Date()): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
}

export const cellsDir = (dir: string) => join(dir, 'cells');
export const cellFile = (dir: string, id: string) => join(cellsDir(dir), `${id}.json`);
export const weightsFile = (dir: string, id: string) => join(dir, 'weights', `${id}.safetensors`);
export const logFile = (dir: string, id: string) => join(dir, 'logs', `${id}.log`);

export async function writeCell(dir: string, cell: BackendResult): Promise<void> {
  await writeFileAtomic(cellFile(dir, cell.backend), JSON.stringify(cell, null, 1) + '\n');
}

/** Cells already written in `dir` (any status), by backend id. Unreadable files are ignored (re-run). */
export async function readCells(dir: string): Promise<Map<string, BackendResult>> {
  const out = new Map<string, BackendResult>();
  if (!existsSync(cellsDir(dir))) return out;
  for (const f of readdirSync(cellsDir(dir))) {
    if (!f.endsWith('.json')) continue;
    try {
      const cell = JSON.parse(await readFile(join(cellsDir(dir), f), 'utf8')) as BackendResult;
      if (cell && typeof cell.backend === 'string') out.set(cell.backend, cell);
    } catch {
      // A cell file that does not parse is treated as not finished: resume runs it again.
    }
  }
  return out;
}

export const absolute = (dir: string, rel: string) => resolve(dir, rel);
