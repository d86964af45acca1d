import { describe, expect, it } from 'vitest';
import { initWeights } from '@lenet/model';
import { splitToFloat } from '@lenet/datasets';
import { evaluate } from '../src/evaluate.js';
import { BackendOutputError, TrainOptionsError } from '../src/errors.js';
import { referenceBackend } from '../src/reference-backend.js';
import { referenceForward } from '../src/reference.js';
import { softmaxCrossEntropy } from '../src/loss.js';
import { TINY_SPEC, scriptedSession, syntheticSplit } from './helpers.js';

describe('evaluate', () => {
  it('scores every image exactly once, in order, with a partial last batch', async () => {
    const split = syntheticSplit(23, 1, 'test');
    const session = scriptedSession();
    const ev = await evaluate(session, split, { batchSize: 10 });
    expect(session.predictCalls).toEqual([10, 10, 3]);
    expect(ev.count).toBe(23);
    // the scripted session predicts the brightest quadrant = the true class of every synthetic image
    expect(ev.accuracy).toBe(1);
    const perClass = [0, 1, 2, 3].map((k) => [...split.labels].filter((l) => l === k).length);
    expect(ev.confusion).toEqual(perClass.map((c, k) => [0, 1, 2, 3].map((j) => (j === k ? c : 0))));
    // logits are 5 at the predicted class, 0 elsewhere: loss = log(e^5 + 3) - 5
    expect(ev.loss).toBeCloseTo(Math.log(Math.exp(5) + 3) - 5, 12);
  });

  it('fills the confusion matrix as [true][predicted]', async () => {
    const split = syntheticSplit(40, 2, 'test');
    const session = scriptedSession({ predictLabel: () => 2 });
    const ev = await evaluate(session, split);
    expect(session.predictCalls).toEqual([40]);
    const counts = [0, 1, 2, 3].map((k) => [...split.labels].filter((l) => l === k).length);
    expect(ev.confusion).toEqual(counts.map((c) => [0, 0, c, 0]));
    expect(ev.accuracy).toBeCloseTo(counts[2]! / 40, 12);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('matches a direct computation with the reference backend', async () => {
    const split = syntheticSplit(30, 3, 'test');
    const weights = initWeights(TINY_SPEC, 5);
    const session = await referenceBackend.createSession(TINY_SPEC, weights);
    const ev = await evaluate(session, split, { batchSize: 7 });
    const logits = referenceForward(TINY_SPEC, weights, splitToFloat(split), 30);
    const direct = softmaxCrossEntropy(Float32Array.from(logits), split.labels, 30, 4);
    expect(ev.loss).toBeCloseTo(direct.loss, 6);
    expect(ev.accuracy).toBe(direct.correct / 30);
  });

  it('rejects a bad batch size and logits of the wrong length', async () => {
    const split = syntheticSplit(5, 4, 'test');
    await expect(evaluate(scriptedSession(), split, { batchSize: 0 })).rejects.toThrow(
      new TrainOptionsError('evaluate: batchSize must be a positive integer, got 0'),
    );
    await expect(evaluate(scriptedSession({ classes: 10 }), split)).rejects.toThrow(
      new BackendOutputError('evaluate: predict returned 50 logits for 5 images; the mnist split has 4 classes, so 20 were expected'),
    );
  });
});
