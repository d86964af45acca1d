// Its own file (own process): onnxruntime-web fixes its wasm thread count once per process, and
// backends.test.ts fixes it at 1.
import { describe, expect, it } from 'vitest';
import { expectTrainingFollowsReference, randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { ortWebBackend } from '../src/index.js';

describe('ort-web in Node: training on 2 threads is data-parallel (worker threads, 1 wasm thread each)', () => {
  it('follows the reference step by step (even, uneven and single-sample batches), then predicts with the new weights', async () => {
    const spec = getPreset('lenet5-modern');
    const session = await ortWebBackend.createTrainingSession(spec, initWeights(spec, 6), { threads: 2 });
    try {
      expect((await ortWebBackend.info()).runtime).toContain('training data-parallel on 2 worker threads');
      await expectTrainingFollowsReference('ort-web 2 threads', session, spec, initWeights(spec, 6), randomImages(15, 16, 784), randomLabels(16, 16, 10), [16, 5, 1], 0.3);
    } finally {
      await session.dispose();
    }
    await expect(session.trainStep(randomImages(1, 2, 784), randomLabels(1, 2, 10), 2, 0.1)).rejects.toThrow(/disposed/);
  }, 60_000);
});
