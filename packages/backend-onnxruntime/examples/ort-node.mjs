// Training and inference on native ONNX Runtime (Node.js only).
// Needs: npm install onnxruntime-node@1.30.0 --onnxruntime-node-install=skip
// (the flag skips its install script's optional CUDA download; the CPU binaries are in the package)
import { randomImages, randomLabels } from '@lenet/core';
import { ortNodeBackend } from '@lenet/backend-onnxruntime';
import { getPreset, initWeights } from '@lenet/model';

const available = await ortNodeBackend.available(); // true, or why not (e.g. how to install onnxruntime-node)
if (available !== true) throw new Error(available);
const spec = getPreset('lenet5');
const n = 4;
const x = randomImages(1, n, 28 * 28);
const y = randomLabels(2, n, 10);
const session = await ortNodeBackend.createTrainingSession(spec, initWeights(spec, 0), { threads: 2 });
const loss = await session.trainStep(x, y, n, 0.1);
const logits = await session.predict(x, n);
console.log(`ort-node: loss ${loss.toFixed(4)}, ${logits.length} logits`);
console.log((await ortNodeBackend.info({ threads: 2 })).runtime);
await session.dispose();
