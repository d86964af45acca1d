// Any other TF.js backend (webgl, webgpu in browsers) through defineTfjsBackend: say how to
// load it. Shown with the cpu backend so it runs everywhere; for WebGL in a browser:
// tfBackend: 'webgl', load: async () => { await import('@tensorflow/tfjs-backend-webgl'); ... }.
import { defineTfjsBackend } from '@lenet/backend-tfjs';
import { getPreset, initWeights } from '@lenet/model';

const mine = defineTfjsBackend({
  name: 'my-tfjs-cpu',
  description: 'TensorFlow.js cpu, loaded by hand',
  tfBackend: 'cpu',
  load: async () => {
    const cpu = await import('@tensorflow/tfjs-backend-cpu');
    return { versions: { '@tensorflow/tfjs-backend-cpu': cpu.version_cpu } };
  },
});
console.log(await mine.available()); // true, or the reason it cannot run here
const spec = getPreset('lenet5');
const session = await mine.createSession(spec, initWeights(spec, 0));
console.log((await session.predict(new Float32Array(784), 1)).length, 'logits');
await session.dispose();
