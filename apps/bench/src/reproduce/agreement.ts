/**
 * Cross-backend agreement of a reproduce run's final weights: the weights trained on one backend
 * are run on the whole test split by other backends (inference only), and compared with the
 * training backend's own logits: accuracy, max/mean |Δlogit|, identical predictions.
 */
import { argmax } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import { loadWeightsFile } from '@lenet/model/node';
import { splitToFloat, type ImageSplit } from '@lenet/datasets';
import { getUsableBackend } from '../registry.js';

export interface BackendLogits {
  backend: string;
  runtime: string;
  accuracy: number;
  correct: number;
  logits: Float32Array;
}

export interface AgreementRow {
  backend: string;
  runtime: string;
  accuracy: number;
  correct: number;
  /** Against the training backend's logits (0 for the training backend itself). */
  maxAbsLogitDiff: number;
  meanAbsLogitDiff: number;
  identicalPredictions: number;
}

export interface AgreementCheck {
  weightsFile: string;
  trainedOn: string;
  seed: number;
  images: number;
  rows: AgreementRow[];
}

async function logitsOn(name: string, spec: ModelSpec, weights: Awaited<ReturnType<typeof loadWeightsFile>>['weights'], test: ImageSplit, threads?: number): Promise<BackendLogits> {
  const backend = await getUsableBackend(name, false, '--agreement');
  const info = await backend.info({ threads });
  const batch = 1000;
  const session = await backend.createSession(spec, weights, { threads, maxBatchSize: batch });
  const classes = test.classNames.length;
  const logits = new Float32Array(test.count * classes);
  try {
    for (let start = 0; start < test.count; start += batch) {
      const n = Math.min(batch, test.count - start);
      logits.set(await session.predict(splitToFloat(test, start, n), n), start * classes);
    }
  } finally {
    await session.dispose();
  }
  let correct = 0;
  for (let i = 0; i < test.count; i++) if (argmax(logits, i * classes, classes) === test.labels[i]) correct++;
  return { backend: name, runtime: info.runtime, accuracy: correct / test.count, correct, logits };
}

export function compareBackendLogits(base: BackendLogits, other: BackendLogits, count: number, classes: number): AgreementRow {
  let max = 0;
  let sum = 0;
  let same = 0;
  for (let i = 0; i < count * classes; i++) {
    const d = Math.abs(other.logits[i]! - base.logits[i]!);
    if (Number.isNaN(d) || d > max) max = Number.isNaN(d) ? Infinity : d;
    sum += d;
  }
  for (let i = 0; i < count; i++) if (argmax(other.logits, i * classes, classes) === argmax(base.logits, i * classes, classes)) same++;
  return { backend: other.backend, runtime: other.runtime, accuracy: other.accuracy, correct: other.correct, maxAbsLogitDiff: max, meanAbsLogitDiff: sum / (count * classes), identicalPredictions: same / count };
}

export async function checkAgreement(o: {
  weightsFile: string;
  spec: ModelSpec;
  test: ImageSplit;
  trainedOn: string;
  seed: number;
  backends: string[];
  threads?: number;
}): Promise<AgreementCheck> {
  const { weights } = await loadWeightsFile(o.weightsFile, o.spec);
  const classes = o.test.classNames.length;
  const base = await logitsOn(o.trainedOn, o.spec, weights, o.test, o.threads);
  const rows = [compareBackendLogits(base, base, o.test.count, classes)];
  for (const name of o.backends.filter((b) => b !== o.trainedOn)) {
    rows.push(compareBackendLogits(base, await logitsOn(name, o.spec, weights, o.test, o.threads), o.test.count, classes));
  }
  return { weightsFile: o.weightsFile, trainedOn: o.trainedOn, seed: o.seed, images: o.test.count, rows };
}
