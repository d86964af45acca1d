// Shared test body for a tf.layers backend (layers-cpu.test.ts, layers-wasm.test.ts; one
// active TF.js backend per vitest file): the core conformance suite, and the first SGD steps on
// real Fashion-MNIST from the shared seeded init against the float64 reference.
import { describe, expect, it } from 'vitest';
import type { Backend } from '@lenet/core';
import { conformanceSuite, expectTrainingFollowsReference } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { Batcher, stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';

export function layersSuite(backend: Backend, options: { skip?: string[] } = {}): void {
  describe(`${backend.name} conformance`, () => {
    for (const c of conformanceSuite(backend, { skip: options.skip ?? [] })) it(c.name, c.run, 120_000);
  });

  describe(`${backend.name} on Fashion-MNIST`, () => {
    for (const model of ['lenet5', 'lenet5-modern']) {
      it(`${model}: the first 3 SGD steps (batch 32, lr 0.1) from the shared init follow the float64 reference`, async (ctx) => {
        let data;
        try {
          data = await loadDataset('fashion-mnist');
        } catch (e) {
          ctx.skip(`Fashion-MNIST not installed: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        const spec = getPreset(model);
        const train = stratifiedSubset(data.train, 32, 0);
        const batch = new Batcher(train, { batchSize: 32, seed: 0 }).epoch(0).next().value!;
        const session = await backend.createSession(spec, initWeights(spec, 0));
        try {
          // Three steps on one shuffled batch of 32 real images: the same work as the reference.
          await expectTrainingFollowsReference(model, session, spec, initWeights(spec, 0), batch.x, batch.y, [32, 32, 32], 0.1);
          expect((await session.getWeights()).size).toBe(10);
        } finally {
          await session.dispose();
        }
      }, 120_000);
    }
  });
}
