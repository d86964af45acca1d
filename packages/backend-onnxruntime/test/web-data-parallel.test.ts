// Its own file (own process): onnxruntime-web fixes its wasm thread count once per process, and
// backends.test.ts fixes it at 1.
import { describe, expect, it } from 'vitest';
import { assertClose, randomImages, randomLabels, referenceForward, referenceSgdStep } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { ortWebBackend } from '../src/index.js';

describe('ort-web in Node: training on 2 threads is data-parallel (worker threads, 1 wasm thread each)', () => {
  it('follows the reference step by step (even, uneven and single-sample batches), then predicts with the new weights', async () => {
    const spec = getPreset('lenet5-modern');
    let want = initWeights(spec, 6);
    const session = await ortWebBackend.createSession(spec, want, { threads: 2 });
    try {
      expect((await ortWebBackend.info()).runtime).toContain('training data-parallel on 2 worker threads');
      const x = randomImages(15, 16, 784);
      const y = randomLabels(16, 16, 10);
      for (const n of [16, 5, 1]) {
        const loss = await session.trainStep!(x, y, n, 0.3);
        const ref = referenceSgdStep(spec, want, x, y, n, 0.3);
        expect(Math.abs(loss - ref.loss)).toBeLessThan(1e-5 * Math.max(1, ref.loss));
        want = ref.weights;
      }
      const got = await session.getWeights();
      for (const [name, t] of want) assertClose(`${name} after 3 steps`, got.get(name)!.data, t.data, { atol: 1e-5, rtol: 1e-4 });
      assertClose('logits after training', await session.predict(x, 3), referenceForward(spec, want, x, 3), { atol: 1e-4, rtol: 1e-3 });
    } finally {
      await session.dispose();
    }
    await expect(session.trainStep!(randomImages(1, 2, 784), randomLabels(1, 2, 10), 2, 0.1)).rejects.toThrow(/disposed/);
  }, 60_000);
});
