// TypeScript (strict, NodeNext): train LeNet on 8 random images with the shared training loop
// types. Compile with tsc (or run with tsx); `npm install -D typescript @types/node@20`.
import type { TrainingBackend, TrainingSession } from '@lenet/core';
import { randomImages, randomLabels } from '@lenet/core';
import { plainBackend, plainJsBackend } from '@lenet/backend-plain';
import type { PlainSession } from '@lenet/backend-plain';
import type { ModelSpec, Weights } from '@lenet/model';
import { getPreset, initWeights } from '@lenet/model';

async function steps(backend: TrainingBackend, spec: ModelSpec, weights: Weights, count: number): Promise<number[]> {
  const n = 8;
  const x: Float32Array = randomImages(1, n, 28 * 28);
  const y: Int32Array = randomLabels(2, n, 10);
  const session: TrainingSession = await backend.createTrainingSession(spec, weights, { threads: 1 });
  const losses: number[] = [];
  try {
    for (let i = 0; i < count; i++) losses.push(await session.trainStep(x, y, n, 0.1));
  } finally {
    await session.dispose();
  }
  return losses;
}

const spec: ModelSpec = getPreset('lenet5-modern');
const weights: Weights = initWeights(spec, 0);
const wasm: number[] = await steps(plainBackend, spec, weights, 3);
const js: number[] = await steps(plainJsBackend, spec, weights, 3);
console.log('plain   ', wasm.map((l) => l.toFixed(4)).join(' '));
console.log('plain-js', js.map((l) => l.toFixed(4)).join(' '));

const session: PlainSession = await plainBackend.createSession(spec, weights, { threads: 1 });
console.log('kernels:', session.kernelName); // "wasm-relaxed-simd" (Node >= 21), "wasm-simd", or "js" after a warning saying why
await session.dispose();
