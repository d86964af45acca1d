// TensorFlow.js on the cpu and wasm backends: one SGD step and a prediction on 4 random images.
// Needs: npm install @tensorflow/tfjs-core@4.22.0 @tensorflow/tfjs-backend-cpu@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
import { randomImages, randomLabels } from '@lenet/core';
import { createTfjsWasmBackend, tfjsCpuBackend } from '@lenet/backend-tfjs';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5');
const n = 4;
const x = randomImages(1, n, 28 * 28); // NCHW Float32Array, n images
const y = randomLabels(2, n, 10);

// In Node the wasm binaries are found in the installed package; in a browser pass
// createTfjsWasmBackend({ wasmPaths: '/where/you/serve/tfjs-backend-wasm/dist/' }).
for (const backend of [tfjsCpuBackend, createTfjsWasmBackend()]) {
  const session = await backend.createTrainingSession(spec, initWeights(spec, 0));
  const loss = await session.trainStep(x, y, n, 0.1); // one SGD step, returns the mean loss
  const logits = await session.predict(x, n);
  const weights = await session.getWeights(); // canonical (PyTorch) layout
  console.log(`${backend.name}: loss ${loss.toFixed(4)}, ${logits.length} logits, ${weights.size} tensors`);
  console.log(`  ${(await backend.info()).runtime}`);
  await session.dispose();
}
