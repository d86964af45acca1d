/**
 * @lenet/model/node — file I/O for specs and weights (Node only).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SpecError, WeightsError } from './errors.js';
import { PRESET_NAMES, getPreset } from './presets.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';
import type { DecodedSafetensors } from './safetensors.js';
import { paramInfos, validateSpec } from './spec.js';
import type { ModelSpec, Weights } from './types.js';
import { validateWeights } from './weights.js';

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return 'file not found';
  if (e?.code === 'EISDIR') return 'is a directory, not a file';
  if (e?.code === 'EACCES') return 'permission denied';
  if (e?.code === 'ENOSPC') return 'disk full, ENOSPC';
  return e?.message ?? String(error);
}

/**
 * Reads a safetensors file. With `spec`, also checks the weights match it exactly
 * (validateWeights) and returns them in the spec's canonical order. Errors name the file.
 */
export async function loadWeightsFile(path: string, spec?: ModelSpec): Promise<DecodedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new WeightsError(`${path}: cannot read weights file (${reason(error)})`, { source: path, cause: error });
  }
  const decoded = decodeSafetensors(bytes, path);
  if (spec === undefined) return decoded;
  validateWeights(spec, decoded.weights, path);
  // Files written by other tools (e.g. Python's save_file sorts by name) may order tensors
  // differently; hand back canonical order so Map iteration matches paramInfos.
  const weights: Weights = new Map();
  for (const p of paramInfos(spec)) weights.set(p.name, decoded.weights.get(p.name)!);
  return { weights, metadata: decoded.metadata };
}

/**
 * Writes weights as safetensors atomically: the bytes go to a temporary file in the same
 * directory (created if needed), are flushed to disk, then renamed over `path`. A crash leaves
 * either the old file or the new one, never a partial file.
 */
export async function saveWeightsFile(path: string, weights: Weights, metadata?: Record<string, string>): Promise<void> {
  const bytes = encodeSafetensors(weights, metadata);
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await mkdir(dir, { recursive: true });
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new WeightsError(`${path}: cannot write weights file (${reason(error)})`, { source: path, cause: error });
  }
}

/** Reads and validates a JSON model spec. SpecError names the file (and the layer). */
export async function loadSpecFile(path: string): Promise<ModelSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new SpecError(`${path}: cannot read model spec file (${reason(error)})`, { source: path, cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SpecError(`${path}: model spec is not valid JSON (${(error as Error).message})`, { source: path, cause: error });
  }
  return validateSpec(json, path);
}

/**
 * A model from a command-line style argument: a preset name ("lenet5", "lenet5-modern") or a
 * path to a spec file ending in .json.
 */
export async function resolveModel(arg: string): Promise<ModelSpec> {
  if ((PRESET_NAMES as readonly string[]).includes(arg)) return getPreset(arg);
  if (typeof arg === 'string' && arg.toLowerCase().endsWith('.json')) return loadSpecFile(arg);
  throw new SpecError(
    `Unknown model ${JSON.stringify(arg)}: expected a preset (${PRESET_NAMES.join(', ')}) or a path to a model spec .json file`,
  );
}
