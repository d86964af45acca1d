// LeNet on jax-js (wasm): one SGD step (jit(valueAndGrad(loss)) then p - lr * g) and a
// prediction on 4 random images, from the shared seeded init.
// Needs: npm install @jax-js/jax@0.1.25
import { randomImages, randomLabels } from '@lenet/core';
import { jaxBackend } from '@lenet/backend-jax';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5');
const n = 4;
const x = randomImages(1, n, 28 * 28); // NCHW Float32Array: jax-js's own layout
const y = randomLabels(2, n, 10);

const session = await jaxBackend.createTrainingSession(spec, initWeights(spec, 0));
const loss = await session.trainStep(x, y, n, 0.1); // the first call traces and compiles (jit)
const logits = await session.predict(x, n);
console.log(`${jaxBackend.name}: loss ${loss.toFixed(4)}, ${logits.length} logits`);
console.log(`  ${(await jaxBackend.info()).runtime}`);
await session.dispose();
