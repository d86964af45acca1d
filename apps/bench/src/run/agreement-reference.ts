/**
 * The agreement reference of a run: the shared weights (the first trained backend's final
 * weights, copied to DIR/agreement/) and their float64 logits on a fixed stratified test subset,
 * computed once with @lenet/core's referenceForward and saved, so --resume reuses them; and the
 * comparison of a cell's logits with them.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { argmax, referenceForward } from '@lenet/core';
import { numClasses, type ModelSpec } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { splitToFloat, stratifiedSubset } from '@lenet/datasets';
import type { RunContext } from './context.js';
import { writeFileAtomic } from './store.js';
import type { AgreementInfo, AgreementResult } from './types.js';

export interface AgreementReference {
  info: AgreementInfo;
  logits: Float64Array;
  predictions: Int32Array;
}

const AGREEMENT_DIR = 'agreement';

/** Float64 reference logits of the shared weights on the fixed agreement subset (computed once, saved). */
export async function computeAgreementReference(ctx: RunContext, sourceFile: string, source: string): Promise<AgreementReference> {
  const dir = join(ctx.dir, AGREEMENT_DIR);
  await mkdir(dir, { recursive: true });
  const shared = join(dir, 'weights.safetensors');
  await copyFile(sourceFile, shared);
  const { weights } = await loadWeightsFile(shared, ctx.config.modelSpec);
  const n = Math.min(ctx.config.agreementImages, ctx.test.count);
  const subset = stratifiedSubset(ctx.test, n, 0);
  const t0 = performance.now();
  const logits = referenceForward(ctx.config.modelSpec, weights, splitToFloat(subset), n);
  const info: AgreementInfo = { weightsFile: relative(ctx.dir, shared), source, images: n, referenceSeconds: (performance.now() - t0) / 1000 };
  await writeFileAtomic(join(dir, 'reference.json'), JSON.stringify({ ...info, logits: Array.from(logits) }) + '\n');
  return withPredictions(ctx.config.modelSpec, info, logits);
}

function withPredictions(spec: ModelSpec, info: AgreementInfo, logits: Float64Array): AgreementReference {
  const classes = numClasses(spec);
  const predictions = new Int32Array(info.images);
  for (let i = 0; i < info.images; i++) predictions[i] = argmax(logits, i * classes, classes);
  return { info, logits, predictions };
}

/** The reference saved by an earlier invocation (resume), or null when there is none (or it is unreadable). */
export async function loadAgreementReference(ctx: RunContext): Promise<AgreementReference | null> {
  const file = join(ctx.dir, AGREEMENT_DIR, 'reference.json');
  if (!existsSync(file)) return null;
  try {
    const saved = JSON.parse(await readFile(file, 'utf8')) as AgreementInfo & { logits: number[] };
    const { logits, ...info } = saved;
    if (logits.length !== info.images * numClasses(ctx.config.modelSpec)) return null;
    return withPredictions(ctx.config.modelSpec, info, Float64Array.from(logits));
  } catch {
    return null; // recomputed from the next trained weights
  }
}

export function compareLogits(ref: AgreementReference, logits: ArrayLike<number>, classes: number): AgreementResult {
  const n = ref.info.images;
  if (logits.length !== n * classes) throw new Error(`agreement: got ${logits.length} logits, expected ${n * classes} (${n} images x ${classes} classes)`);
  let max = 0;
  let sum = 0;
  let finite = true;
  let identical = 0;
  for (let i = 0; i < n * classes; i++) {
    const d = Math.abs(logits[i]! - ref.logits[i]!);
    if (!Number.isFinite(d)) finite = false;
    else {
      if (d > max) max = d;
      sum += d;
    }
  }
  for (let i = 0; i < n; i++) if (argmax(logits, i * classes, classes) === ref.predictions[i]) identical++;
  return {
    images: n,
    maxAbsLogitDiff: finite ? max : null,
    meanAbsLogitDiff: finite ? sum / (n * classes) : null,
    identicalPredictions: identical / n,
    identicalCount: identical,
  };
}
