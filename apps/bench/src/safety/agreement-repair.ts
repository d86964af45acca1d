/**
 * `run --resume`: the shared agreement weights (DIR/agreement/weights.safetensors) are read by
 * every later cell. If that file is corrupt every resumed cell would fail, so it is repaired
 * first: restored from the finished cell whose final weights it copied, or else removed together
 * with reference.json so that the next backend to finish training provides new shared weights.
 */
import { existsSync } from 'node:fs';
import { copyFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelSpec } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';

async function loads(file: string, spec: ModelSpec): Promise<string | null> {
  try {
    await loadWeightsFile(file, spec);
    return null;
  } catch (err) {
    return (err as Error).message.split('\n')[0] ?? 'unreadable';
  }
}

/** Returns a note for the report when something was repaired, else null. */
export async function repairAgreementWeights(dir: string, spec: ModelSpec): Promise<string | null> {
  const refFile = join(dir, 'agreement', 'reference.json');
  const weights = join(dir, 'agreement', 'weights.safetensors');
  if (!existsSync(refFile) && !existsSync(weights)) return null;
  const problem = existsSync(weights) ? await loads(weights, spec) : 'missing';
  if (problem === null) return null;
  let source: string | null = null;
  try {
    const ref = JSON.parse(await readFile(refFile, 'utf8')) as { source?: string };
    source = /final weights of (\S+)/.exec(ref.source ?? '')?.[1] ?? null;
  } catch {
    source = null;
  }
  const original = source ? join(dir, 'weights', `${source}.safetensors`) : null;
  if (original && existsSync(original) && (await loads(original, spec)) === null) {
    await copyFile(original, weights);
    return `agreement/weights.safetensors was unusable (${problem}); restored from weights/${source}.safetensors`;
  }
  await rm(refFile, { force: true });
  await rm(weights, { force: true });
  return `agreement/weights.safetensors was unusable (${problem}); removed, the next backend to finish training provides the shared weights`;
}
