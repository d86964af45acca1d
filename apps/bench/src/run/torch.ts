/**
 * The optional PyTorch reference cell: apps/bench/python/torch_child.py (mode run) trains the same recipe
 * from the same initial weights on the same bytes in the same batch order (we write the exact
 * splits, the Batcher's epoch orders and the safetensors init to a temp folder), and speaks the
 * same messages as a backend child, one JSON object per stdout line.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { cleanupTorchJob, makeTorchJobDir, writeTorchJobFiles } from '../torch/job-files.js';
import type { ChildJob } from './types.js';


export interface TorchCheck {
  ok: boolean;
  executable: string;
  python: string | null;
  torch: string | null;
  note: string;
}

export { pythonExecutable, TORCH_CHILD_SCRIPT } from '../torch/python.js';
import { pythonExecutable } from '../torch/python.js';

export function checkTorch(): TorchCheck {
  const executable = pythonExecutable();
  const r = spawnSync(executable, ['-c', 'import sys, torch; print(sys.version.split()[0], torch.__version__)'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, executable, python: null, torch: null, note: `PyTorch reference skipped: ${executable} could not be run (${r.error.message})` };
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').at(-1) || `exit ${r.status}`;
    return { ok: false, executable, python: null, torch: null, note: `PyTorch reference skipped: ${executable} -c 'import torch' failed (${why})` };
  }
  const [python, torch] = r.stdout.trim().split(/\s+/);
  return { ok: true, executable, python: python ?? null, torch: torch ?? null, note: `PyTorch ${torch} (Python ${python}) runs the reference cell` };
}

/**
 * The job folder of the run's PyTorch cell: torch/job-files.ts's files (the exact splits, the
 * Batcher's epoch orders, the seeded init, the agreement images) plus the learning-curve subset.
 */
export async function prepareTorchJob(job: ChildJob, train: ImageSplit, test: ImageSplit, agreementImages: number): Promise<{ dir: string; jobFile: string }> {
  const dir = await makeTorchJobDir();
  const data = await writeTorchJobFiles(dir, { train, test, spec: job.spec, seed: job.seed, batchSize: job.batchSize, epochs: job.epochs, agreementImages });
  const evalSubset = job.evalImages >= test.count ? test : stratifiedSubset(test, job.evalImages, 0);
  const files = { ...data.files, evalImages: join(dir, 'eval-images.u8'), evalLabels: join(dir, 'eval-labels.u8') };
  await writeFile(files.evalImages, evalSubset.images);
  await writeFile(files.evalLabels, evalSubset.labels);
  const jobFile = join(dir, 'job.json');
  await writeFile(jobFile, JSON.stringify({ ...job, ...data, files, evalCount: evalSubset.count }));
  return { dir, jobFile };
}

export { cleanupTorchJob };
