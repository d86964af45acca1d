// Shared test body for a tf.layers backend (layers-cpu.test.ts, layers-wasm.test.ts; one
// active TF.js backend per vitest file): the core conformance suite, and the first SGD steps on
// real Fashion-MNIST from the shared seeded init against the float64 reference.
import { describe, it } from 'vitest';
import type { TrainingBackend } from '@lenet/core';
import { conformanceSuite, expectFirstStepsFollowReference, FIRST_STEPS } from '@lenet/core';
import { getPreset } from '@lenet/model';
import { loadDataset } from '@lenet/datasets/node';

export function layersSuite(backend: TrainingBackend, options: { skip?: string[] } = {}): void {
  describe(`${backend.name} conformance`, () => {
    for (const c of conformanceSuite(backend, { skip: options.skip ?? [] })) it(c.name, c.run, 120_000);
  });

  describe(`${backend.name} on Fashion-MNIST`, () => {
    for (const model of ['lenet5', 'lenet5-modern']) {
      it(`${model}: the first ${FIRST_STEPS.steps} SGD steps (batch ${FIRST_STEPS.images}, lr ${FIRST_STEPS.lr}) from the shared init follow the float64 reference`, async (ctx) => {
        const data = await loadDataset('fashion-mnist').catch((e: unknown) => ctx.skip(`Fashion-MNIST not installed: ${e instanceof Error ? e.message : String(e)}`));
        await expectFirstStepsFollowReference(backend, getPreset(model), data.train);
      }, 120_000);
    }
  });
}
