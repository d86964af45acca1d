// Training and inference on onnxruntime-web (WebAssembly), in Node or a browser.
// Needs: npm install onnxruntime-web@1.30.0
import { randomImages, randomLabels } from '@lenet/core';
import { ortWebBackend } from '@lenet/backend-onnxruntime';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5');
const n = 4;
const x = randomImages(1, n, 28 * 28);
const y = randomLabels(2, n, 10);
const session = await ortWebBackend.createTrainingSession(spec, initWeights(spec, 0), { threads: 1 });
const loss = await session.trainStep(x, y, n, 0.1); // runs a generated ONNX training-step graph
const logits = await session.predict(x, n);
console.log(`ort-web: loss ${loss.toFixed(4)}, ${logits.length} logits`);
console.log((await ortWebBackend.info()).runtime);
await session.dispose();
