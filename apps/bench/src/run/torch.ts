/**
 * The optional PyTorch reference cell: apps/bench/python/torch_reference.py trains the same recipe
 * from the same initial weights on the same bytes in the same batch order (we write the exact
 * splits, the Batcher's epoch orders and the safetensors init to a temp folder), and speaks the
 * same messages as a backend child, one JSON object per stdout line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Batcher, splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { encodeSafetensors, initWeights } from '@lenet/model';
import type { ChildJob } from './types.js';

export const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'python', 'torch_reference.py');

export interface TorchCheck {
  ok: boolean;
  executable: string;
  python: string | null;
  torch: string | null;
  note: string;
}

export { pythonExecutable } from '../torch/python.js';
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

/** Raw bytes of the data the JS backends use, the batch orders and the init weights, in a temp folder. */
export async function prepareTorchJob(job: ChildJob, train: ImageSplit, test: ImageSplit, agreementImages: number): Promise<{ dir: string; jobFile: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'lenet-torch-'));
  const batcher = new Batcher(train, { batchSize: job.batchSize, seed: job.seed });
  const orders = new Uint32Array(job.epochs * train.count);
  for (let e = 0; e < job.epochs; e++) orders.set(batcher.epochOrder(e), e * train.count);
  const n = Math.min(agreementImages, test.count);
  const evalSubset = job.evalImages >= test.count ? test : stratifiedSubset(test, job.evalImages, 0);
  const files = {
    trainImages: join(dir, 'train-images.u8'),
    trainLabels: join(dir, 'train-labels.u8'),
    testImages: join(dir, 'test-images.u8'),
    testLabels: join(dir, 'test-labels.u8'),
    order: join(dir, 'order.u32'),
    agreementImages: join(dir, 'agreement.f32'),
    evalImages: join(dir, 'eval-images.u8'),
    evalLabels: join(dir, 'eval-labels.u8'),
    initWeights: join(dir, 'init.safetensors'),
  };
  const le = (a: Uint32Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // x86/ARM are little-endian
  await writeFile(files.trainImages, train.images);
  await writeFile(files.trainLabels, train.labels);
  await writeFile(files.testImages, test.images);
  await writeFile(files.testLabels, test.labels);
  await writeFile(files.order, le(orders));
  await writeFile(files.evalImages, evalSubset.images);
  await writeFile(files.evalLabels, evalSubset.labels);
  await writeFile(files.agreementImages, le(splitToFloat(stratifiedSubset(test, n, 0))));
  await writeFile(files.initWeights, encodeSafetensors(initWeights(job.spec, job.seed)));
  const jobFile = join(dir, 'job.json');
  await writeFile(
    jobFile,
    JSON.stringify({
      ...job,
      threads: job.threads,
      files,
      trainCount: train.count,
      testCount: test.count,
      evalCount: evalSubset.count,
      rows: train.rows,
      cols: train.cols,
      classes: train.classNames.length,
      agreementCount: n,
    }),
  );
  return { dir, jobFile };
}


export async function cleanupTorchJob(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
