import { describe, expect, it } from 'vitest';
import { getPreset, initWeights } from '@lenet/model';
import { expectTrainingFollowsReference, randomImages, randomLabels } from '../src/index.js';
import { brokenBackend } from './broken-backends.js';

describe('expectTrainingFollowsReference (the check the data-parallel backend tests use)', () => {
  const spec = getPreset('lenet5');
  const x = randomImages(3, 8, 784);
  const y = randomLabels(4, 8, 10);
  it('passes a float32 backend that trains correctly', async () => {
    const s = await brokenBackend('float32-noise').createTrainingSession(spec, initWeights(spec, 1));
    await expectTrainingFollowsReference('float32', s, spec, initWeights(spec, 1), x, y, [8, 3, 1], 0.2);
  });
  it('names the step whose loss or weights go wrong', async () => {
    const once = await brokenBackend('updates-once').createTrainingSession(spec, initWeights(spec, 1));
    await expect(expectTrainingFollowsReference('updates-once', once, spec, initWeights(spec, 1), x, y, [8, 3, 1], 0.2)).rejects.toThrow(/updates-once: step 3 \(batch 1\) loss/) // step 2 is the first update lost; step 3 sees it;
    const sum = await brokenBackend('sum-not-mean').createTrainingSession(spec, initWeights(spec, 1));
    await expect(expectTrainingFollowsReference('sum', sum, spec, initWeights(spec, 1), x, y, [8], 0.2)).rejects.toThrow(/sum: \S+ after 1 steps/);
  });
});
