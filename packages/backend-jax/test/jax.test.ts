// jax-js on wasm: the core conformance suite, and the first SGD steps on real Fashion-MNIST from
// the shared seeded init against the float64 reference.
import { describe, expect, it } from 'vitest';
import { conformanceSuite, expectTrainingFollowsReference } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { Batcher, stratifiedSubset } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { backends, createJaxBackend, jaxBackend } from '../src/index.js';

describe('jax-js conformance', () => {
  for (const c of conformanceSuite(jaxBackend)) it(c.name, c.run, 120_000);
});

describe('jax-js on Fashion-MNIST', () => {
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
      const batch = new Batcher(stratifiedSubset(data.train, 32, 0), { batchSize: 32, seed: 0 }).epoch(0).next().value!;
      const session = await jaxBackend.createSession(spec, initWeights(spec, 0));
      try {
        await expectTrainingFollowsReference(model, session, spec, initWeights(spec, 0), batch.x, batch.y, [32, 32, 32], 0.1);
      } finally {
        await session.dispose();
      }
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
