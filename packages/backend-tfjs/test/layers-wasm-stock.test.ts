// Stock tfjs-backend-wasm 4.22 cannot train a conv net with tf.layers: the first trainOnBatch
// throws because Conv2DBackpropFilter is not registered (tensorflow/tfjs#8474). Its own vitest
// file, so no test in this process has registered our kernel. Inference works.
import { describe, expect, it } from 'vitest';
import { getKernel } from '@tensorflow/tfjs-core';
import { randomImages, randomLabels, referenceForward, assertClose } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { createTfjsLayersWasmBackend } from '../src/index.js';

const stock = createTfjsLayersWasmBackend({ trainingKernels: false });

describe('tf.layers on stock tfjs-backend-wasm (no kernels from this package)', () => {
  it("predicts like the reference but fails to train with \"Kernel 'Conv2DBackpropFilter' not registered\"", async () => {
    const spec = getPreset('lenet5');
    const weights = initWeights(spec, 0);
    const session = await stock.createTrainingSession(spec, weights);
    try {
      expect(getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
      const x = randomImages(1, 4, 784);
      assertClose('logits', await session.predict(x, 4), referenceForward(spec, weights, x, 4), { atol: 1e-4, rtol: 1e-3 });
      await expect(session.trainStep(x, randomLabels(2, 4, 10), 4, 0.1)).rejects.toThrow("Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'");
    } finally {
      await session.dispose();
    }
  });
});
