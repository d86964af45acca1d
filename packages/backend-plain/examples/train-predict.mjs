// Plain TypeScript LeNet: one SGD step and a prediction on 8 random images.
import { randomImages, randomLabels } from '@lenet/core';
import { plainBackend } from '@lenet/backend-plain';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5');
const n = 8;
const x = randomImages(1, n, 28 * 28); // Float32Array NCHW, values in [0, 1] like pixels/255
const y = randomLabels(2, n, 10); // Int32Array class indices

console.log((await plainBackend.info({ threads: 2 })).runtime); // says which kernels run (WebAssembly SIMD or TypeScript)
const session = await plainBackend.createTrainingSession(spec, initWeights(spec, 0), { threads: 2 }); // Node: worker threads
const loss = await session.trainStep(x, y, n, 0.1); // mean loss before the update
const logits = await session.predict(x, n); // Float32Array, n * 10
const weights = await session.getWeights(); // canonical names/layout (PyTorch)
console.log(`loss ${loss.toFixed(4)}, ${logits.length} logits, kernels ${session.kernelName}, ${weights.size} tensors`);
await session.dispose(); // stops the worker threads
