// jax-js on wasm: the core conformance suite, and the first SGD steps on real Fashion-MNIST from
// the shared seeded init against the float64 reference.
import { describe, expect, it } from 'vitest';
import { conformanceSuite, expectFirstStepsFollowReference, FIRST_STEPS } from '@lenet/core';
import { getPreset } from '@lenet/model';
import { loadDataset } from '@lenet/datasets/node';
import { backends, createJaxBackend, jaxBackend } from '../src/index.js';

describe('jax-js conformance', () => {
  for (const c of conformanceSuite(jaxBackend)) it(c.name, c.run, 120_000);
});

describe('jax-js on Fashion-MNIST', () => {
  for (const model of ['lenet5', 'lenet5-modern']) {
    it(`${model}: the first ${FIRST_STEPS.steps} SGD steps (batch ${FIRST_STEPS.images}, lr ${FIRST_STEPS.lr}) from the shared init follow the float64 reference`, async (ctx) => {
      const data = await loadDataset('fashion-mnist').catch((e: unknown) => ctx.skip(`Fashion-MNIST not installed: ${e instanceof Error ? e.message : String(e)}`));
      await expectFirstStepsFollowReference(jaxBackend, getPreset(model), data.train);
    }, 120_000);
  }
});

describe('jax-js backends', () => {
  it('lists jax-js (wasm), one thread in Node', async () => {
    expect(backends.map((b) => b.name)).toEqual(['jax-js']);
    const info = await jaxBackend.info();
    expect(info.runtime).toBe('jax-js 0.1.25 wasm (1 thread)');
    expect(info.versions['@jax-js/jax']).toBe('0.1.25');
  });

  it('a device Node lacks is unavailable with a reason, not an exception', async () => {
    const gpu = createJaxBackend({ device: 'webgpu' });
    expect(gpu.name).toBe('jax-js-webgpu');
    expect(await gpu.available()).toMatch(/^jax-js-webgpu is not available: /);
  });
});
