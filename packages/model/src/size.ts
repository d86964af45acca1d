/**
 * A bound on the memory a spec needs, checked before anything is allocated: a spec with a
 * million channels would otherwise make `init` allocate gigabytes before anyone notices.
 */
import { SpecError } from './errors.js';
import { summarize } from './spec.js';
import type { ModelSpec } from './types.js';

export interface ModelSizeLimits {
  /** Most parameters allowed (default 50 million = 200 MB of float32). */
  maxParams?: number;
  /** Most bytes of float32 activations (every layer's output) for one batch (default 256 MiB). */
  maxActivationBytes?: number;
  /** The batch the activation bound is checked at (default 1000, the evaluation batch). */
  batchSize?: number;
}

export const DEFAULT_MAX_PARAMS = 50_000_000;
export const DEFAULT_MAX_ACTIVATION_BYTES = 256 * 1024 * 1024;
export const DEFAULT_SIZE_BATCH = 1000;

export interface ModelSize {
  params: number;
  /** float32 activation elements per image, summed over every layer's output. */
  activationsPerImage: number;
  activationBytes: number;
  batchSize: number;
}

/** Parameters and activation memory of a spec (no allocation). Throws SpecError if invalid. */
export function modelSize(spec: ModelSpec, batchSize = DEFAULT_SIZE_BATCH): ModelSize {
  const s = summarize(spec);
  const activationsPerImage = s.layers.reduce((sum, l) => sum + l.outputShape.reduce((a, b) => a * b, 1), 0);
  return { params: s.totalParams, activationsPerImage, activationBytes: activationsPerImage * 4 * batchSize, batchSize };
}

/** A spec larger than the memory bound. */
export class ModelSizeError extends SpecError {
  constructor(
    message: string,
    readonly size: ModelSize,
  ) {
    super(message);
    this.name = 'ModelSizeError';
  }
}

const mb = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(0)} MiB`;

/** Throws ModelSizeError (one line: the numbers, the bound) when `spec` exceeds the limits. */
export function checkModelSize(spec: ModelSpec, limits: ModelSizeLimits = {}, source?: string): ModelSize {
  const maxParams = limits.maxParams ?? DEFAULT_MAX_PARAMS;
  const maxBytes = limits.maxActivationBytes ?? DEFAULT_MAX_ACTIVATION_BYTES;
  const size = modelSize(spec, limits.batchSize ?? DEFAULT_SIZE_BATCH);
  const where = `${spec.name}${source ? ` (${source})` : ''}`;
  if (size.params > maxParams) {
    throw new ModelSizeError(
      `model ${where} is too large: expected at most ${maxParams.toLocaleString('en-US')} parameters, got ${size.params.toLocaleString('en-US')} (${mb(size.params * 4)} of float32)`,
      size,
    );
  }
  if (size.activationBytes > maxBytes) {
    throw new ModelSizeError(
      `model ${where} is too large: expected at most ${mb(maxBytes)} of activations for a batch of ${size.batchSize}, got ${mb(size.activationBytes)} (${size.activationsPerImage.toLocaleString('en-US')} floats per image)`,
      size,
    );
  }
  return size;
}
