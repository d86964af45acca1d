/** Flag parsers shared by the commands: each names the flag and what was expected. */
import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from 'commander';
import type { DatasetName } from '@lenet/datasets';
import { PRESET_NAMES } from '@lenet/model';

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return n;
}

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError('expected a non-negative integer.');
  }
  return n;
}

export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number.');
  return n;
}

/** --momentum: torch.optim.SGD's momentum factor, in [0, 1). */
export function momentumFactor(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n >= 1) throw new InvalidArgumentError('expected a number in [0, 1), e.g. 0.9.');
  return n;
}

/** --weight-decay: L2 weight decay added to the gradient, a finite number >= 0. */
export function weightDecay(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a finite number >= 0, e.g. 5e-4.');
  return n;
}

export function fraction(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 1) {
    throw new InvalidArgumentError('expected a number in (0, 1], e.g. 0.7.');
  }
  return n;
}

export const DATASETS: readonly DatasetName[] = ['fashion-mnist', 'mnist'];

export function datasetName(value: string): DatasetName {
  if (!(DATASETS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of: ${DATASETS.join(', ')}.`);
  }
  return value as DatasetName;
}

/** --threads: a positive integer, at most 4x the available cores (more is a typo, not a setting). */
export function threadCount(value: string): number {
  const n = positiveInt(value);
  const max = 4 * availableParallelism();
  if (n > max) throw new InvalidArgumentError(`expected at most ${max} (4x the ${availableParallelism()} available cores), got ${n}.`);
  return n;
}

/**
 * --model: a preset name or a spec .json file (read later). An unknown name is a usage error
 * listing the known models, like every other bad flag value.
 */
export function modelName(value: string): string {
  if ((PRESET_NAMES as readonly string[]).includes(value) || value.toLowerCase().endsWith('.json')) return value;
  throw new InvalidArgumentError(`expected a known model (${PRESET_NAMES.join(', ')}) or a model spec .json file.`);
}

/** --data-dir: a folder; an empty value would silently fall back to another copy of the data. */
export function dataDirPath(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a folder holding the IDX files, got an empty path.');
  return value;
}

/** --cold-starts: fresh processes per backend; each takes seconds, so a typo of 1000 is refused. */
export const MAX_COLD_STARTS = 30;
export function coldStartCount(value: string): number {
  const n = nonNegativeInt(value);
  if (n > MAX_COLD_STARTS) throw new InvalidArgumentError(`expected at most ${MAX_COLD_STARTS} fresh processes per backend, got ${n}.`);
  return n;
}
