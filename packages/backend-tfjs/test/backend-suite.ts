// Shared test body for one TF.js backend (imported by cpu.test.ts and wasm.test.ts; vitest
// runs each file in its own worker, so each file has one active TF.js backend).
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import type { TrainingBackend } from '@lenet/core';
import { assertClose, conformanceSuite, randomImages, randomLabels, referenceForward, referenceSgdStep } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import { getPreset, initWeights, inputSize } from '@lenet/model';

export function backendSuite(backend: TrainingBackend, { leakBatch }: { leakBatch: number }): void {
  describe(`${backend.name} conformance`, () => {
    // tfjs-cpu and tfjs-wasm train on the data-parallel engine in Node, which applies the optimizer.
    for (const c of conformanceSuite(backend, { optimizer: true })) it(c.name, c.run, 60_000);
  });

  describe(`${backend.name} memory`, () => {
    for (const model of ['lenet5', 'lenet5-modern']) {
      it(`${model}: tf.memory().numTensors is stable over 100 training steps and back to the start after dispose`, async () => {
        const spec = getPreset(model);
        const n = leakBatch;
        const x = randomImages(1, n, inputSize(spec));
        const y = randomLabels(2, n, 10);
        const before = tf.memory().numTensors;
        const session = await backend.createTrainingSession(spec, initWeights(spec, 0));
        await session.trainStep(x, y, n, 0.1);
        await session.predict(x, n);
        const steady = tf.memory();
        for (let i = 0; i < 100; i++) {
          const loss = await session.trainStep(x, y, n, 0.1);
          expect(Number.isFinite(loss)).toBe(true);
          if (i % 10 === 0) await session.predict(x, n);
          if (i % 25 === 0) await session.getWeights();
          expect(tf.memory().numTensors).toBe(steady.numTensors);
        }
        expect(tf.memory().numBytes).toBe(steady.numBytes);
        await session.dispose();
        expect(tf.memory().numTensors).toBe(before);
      }, 120_000);
    }
  });

  describe(`${backend.name} multi-channel input (NCHW -> NHWC transpose, flatten permutation)`, () => {
    // 3 input channels and a flatten of a [4, 3, 3] activation: exercises both layout paths
    // that the 1-channel presets do not.
    const spec: ModelSpec = {
      name: 'rgb-test',
      inputShape: [3, 12, 10],
      layers: [
        { type: 'conv2d', outChannels: 4, kernelSize: 3, padding: 1 },
        { type: 'activation', fn: 'tanh' },
        { type: 'pool2d', mode: 'max', kernelSize: 3, stride: 3 },
        { type: 'flatten' },
        { type: 'dense', units: 5 },
      ],
    };
    const weights = initWeights(spec, 3);
    const n = 3;
    const x = randomImages(4, n, inputSize(spec));
    const tol = { atol: 1e-4, rtol: 1e-3 };

    it('predict matches the reference', async () => {
      const session = await backend.createSession(spec, weights);
      try {
        assertClose('logits', await session.predict(x, n), referenceForward(spec, weights, x, n), tol);
      } finally {
        await session.dispose();
      }
    });

    it('one SGD step matches the reference', async () => {
      const y = randomLabels(5, n, 5);
      const ref = referenceSgdStep(spec, weights, x, y, n, 0.5);
      const session = await backend.createTrainingSession(spec, weights);
      try {
        assertClose('loss', [await session.trainStep(x, y, n, 0.5)], [ref.loss], tol);
        const after = await session.getWeights();
        for (const [name, t] of ref.weights) assertClose(name, after.get(name)!.data, t.data, tol);
      } finally {
        await session.dispose();
      }
    });
  });
}
