/**
 * Backend discovery. The CLI knows backend *packages*, not backends: each package exports
 * `backends: Backend[]` implementing the @lenet/core contract, and every command works with
 * whatever they offer. A package that fails to load (e.g. a native runtime missing) is reported,
 * not fatal.
 */
import type { Backend, TrainingBackend } from '@lenet/core';
import { canTrain } from '@lenet/core';
import { UsageError } from './errors.js';

export const BACKEND_PACKAGES = ['@lenet/backend-plain', '@lenet/backend-tfjs', '@lenet/backend-onnxruntime', '@lenet/backend-jax'] as const;

export interface BackendEntry {
  backend: Backend;
  packageName: string;
}

export interface Registry {
  entries: BackendEntry[];
  /** Packages that could not be imported, with the reason. */
  failedPackages: { packageName: string; reason: string }[];
}

let cached: Promise<Registry> | undefined;

export function loadRegistry(): Promise<Registry> {
  cached ??= (async () => {
    const entries: BackendEntry[] = [];
    const failedPackages: Registry['failedPackages'] = [];
    for (const packageName of BACKEND_PACKAGES) {
      try {
        const mod = (await import(packageName)) as { backends?: Backend[] };
        if (!Array.isArray(mod.backends)) throw new Error('does not export `backends`');
        for (const backend of mod.backends) entries.push({ backend, packageName });
      } catch (err) {
        failedPackages.push({ packageName, reason: err instanceof Error ? err.message.split('\n')[0] : String(err) });
      }
    }
    return { entries, failedPackages };
  })();
  return cached;
}

export async function getBackend(name: string, flag = '--backend'): Promise<Backend> {
  const reg = await loadRegistry();
  const hit = reg.entries.find((e) => e.backend.name === name);
  if (!hit) {
    const known = reg.entries.map((e) => e.backend.name).join(', ') || '(none loaded)';
    const failed = reg.failedPackages.length
      ? `; packages that failed to load: ${reg.failedPackages.map((f) => `${f.packageName} (${f.reason})`).join('; ')}`
      : '';
    throw new UsageError(`${flag}: unknown backend "${name}"; known backends: ${known}${failed}`);
  }
  return hit.backend;
}

/** Resolves a backend and checks it can run here (and train, if asked). */
export async function getUsableBackend(name: string, needTrain: true, flag?: string): Promise<TrainingBackend>;
export async function getUsableBackend(name: string, needTrain: boolean, flag?: string): Promise<Backend>;
export async function getUsableBackend(name: string, needTrain: boolean, flag = '--backend'): Promise<Backend> {
  const backend = await getBackend(name, flag);
  const ok = await backend.available();
  if (ok !== true) throw new UsageError(`${flag}: backend "${name}" is not available here: ${ok}`);
  if (needTrain && !canTrain(backend)) {
    const reg = await loadRegistry();
    const trainers = reg.entries.filter((e) => canTrain(e.backend)).map((e) => e.backend.name);
    throw new UsageError(`${flag}: backend "${name}" cannot train; backends that can: ${trainers.join(', ')}`);
  }
  return backend;
}
