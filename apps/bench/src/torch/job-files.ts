/**
 * The files a PyTorch child trains from, so it does identical work to the JS backends: the exact
 * image/label bytes of the splits, the Batcher's per-epoch sample orders (uint32), the seeded
 * initial weights (safetensors from @lenet/model's initWeights), optionally the per-step learning
 * rates (float64, so Python needs no schedule code) and float32 agreement images. Shared by the
 * `run` cell and `reproduce --backends pytorch` (python/torch_child.py, modes run and reproduce).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Batcher, splitToFloat, stratifiedSubset, type ImageSplit } from '@lenet/datasets';
import { encodeSafetensors, initWeights, type ModelSpec } from '@lenet/model';

export interface TorchJobInput {
  train: ImageSplit;
  test: ImageSplit;
  spec: ModelSpec;
  /** Seed of the init weights and of the batch order (as @lenet/core's train uses it). */
  seed: number;
  batchSize: number;
  epochs: number;
  /** Learning rate of every step (epochs x stepsPerEpoch, in order), when the recipe has a schedule. */
  lrPerStep?: Float64Array | null;
  /** That many stratified test images as float32 NCHW for a logits comparison (0 or absent: none). */
  agreementImages?: number;
}

export interface TorchJobFiles {
  trainImages: string;
  trainLabels: string;
  testImages: string;
  testLabels: string;
  /** uint32 little-endian, epochs x trainCount. */
  order: string;
  initWeights: string;
  /** float64 little-endian, one per step; absent without a schedule. */
  lr?: string;
  /** float32 NCHW, agreementCount images; absent when not asked for. */
  agreementImages?: string;
}

/** The job.json fields Python needs besides the caller's own. */
export interface TorchJobData {
  files: TorchJobFiles;
  trainCount: number;
  testCount: number;
  rows: number;
  cols: number;
  classes: number;
  stepsPerEpoch: number;
  agreementCount: number;
}

const bytes = (a: Uint32Array | Float32Array | Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // x86/ARM are little-endian

/** Steps per epoch of @lenet/core's train (Batcher with lastBatch 'partial'). */
export function stepsPerEpoch(count: number, batchSize: number): number {
  return Math.ceil(count / batchSize);
}

/** Writes the files into `dir` (which must exist) and returns what job.json should say about them. */
export async function writeTorchJobFiles(dir: string, input: TorchJobInput): Promise<TorchJobData> {
  const { train, test, spec, seed, batchSize, epochs } = input;
  const batcher = new Batcher(train, { batchSize, seed, shuffle: true, lastBatch: 'partial' });
  const orders = new Uint32Array(epochs * train.count);
  for (let e = 0; e < epochs; e++) orders.set(batcher.epochOrder(e), e * train.count);
  const files: TorchJobFiles = {
    trainImages: join(dir, 'train-images.u8'),
    trainLabels: join(dir, 'train-labels.u8'),
    testImages: join(dir, 'test-images.u8'),
    testLabels: join(dir, 'test-labels.u8'),
    order: join(dir, 'order.u32'),
    initWeights: join(dir, 'init.safetensors'),
  };
  await writeFile(files.trainImages, train.images);
  await writeFile(files.trainLabels, train.labels);
  await writeFile(files.testImages, test.images);
  await writeFile(files.testLabels, test.labels);
  await writeFile(files.order, bytes(orders));
  await writeFile(files.initWeights, encodeSafetensors(initWeights(spec, seed)));
  const steps = batcher.batchesPerEpoch;
  if (input.lrPerStep) {
    if (input.lrPerStep.length !== epochs * steps) {
      throw new RangeError(`writeTorchJobFiles: ${input.lrPerStep.length} learning rates for ${epochs} epochs x ${steps} steps`);
    }
    files.lr = join(dir, 'lr.f64');
    await writeFile(files.lr, bytes(input.lrPerStep));
  }
  const agreementCount = Math.min(input.agreementImages ?? 0, test.count);
  if (agreementCount > 0) {
    files.agreementImages = join(dir, 'agreement.f32');
    await writeFile(files.agreementImages, bytes(splitToFloat(stratifiedSubset(test, agreementCount, 0))));
  }
  return {
    files,
    trainCount: train.count,
    testCount: test.count,
    rows: train.rows,
    cols: train.cols,
    classes: train.classNames.length,
    stepsPerEpoch: steps,
    agreementCount,
  };
}

/** A fresh temp folder for one job. */
export function makeTorchJobDir(prefix = 'lenet-torch-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function cleanupTorchJob(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
