/**
 * A short run on real Fashion-MNIST: 2,000 training images (class-balanced), 250 SGD steps of
 * lenet5-modern on the SIMD tier with 2 threads, scored on 1,000 test images. Chance is 0.10;
 * the full recipe reaches ~0.88, and this short run lands well above chance.
 */
import { expect, it } from 'vitest';
import { evaluate } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { Batcher, stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { plainBackend } from '../dist/index.js';

it('learns Fashion-MNIST from 2,000 images well above chance', async () => {
  const data = await loadDataset('fashion-mnist');
  const train = stratifiedSubset(data.train, 2000, 0);
  const test = stratifiedSubset(data.test, 1000, 0);
  const spec = getPreset('lenet5-modern');
  const session = await plainBackend.createSession(spec, initWeights(spec, 0), { threads: 2, maxBatchSize: 1000 });
  try {
    const before = await evaluate(session, test);
    const batcher = new Batcher(train, { batchSize: 64, seed: 0 });
    let steps = 0;
    let lastLoss = Infinity;
    for (let epoch = 0; steps < 250; epoch++) {
      for (const b of batcher.epoch(epoch)) {
        lastLoss = await session.trainStep(b.x, b.y, b.n, 0.1);
        if (++steps === 250) break;
      }
    }
    const after = await evaluate(session, test);
    expect(before.accuracy).toBeLessThan(0.3);
    expect(Number.isFinite(lastLoss)).toBe(true);
    expect(after.accuracy, `accuracy after 250 steps (loss ${after.loss})`).toBeGreaterThan(0.6);
    expect(after.loss).toBeLessThan(before.loss);
  } finally {
    await session.dispose();
  }
}, 120_000);
