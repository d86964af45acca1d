import { describe, expect, it } from 'vitest';
import { BackendInputError, assertClose, randomImages, randomLabels, referenceForward, referenceSgdStep } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { backends, ortNodeBackend, ortWebBackend } from '../src/index.js';

describe('backend list and options', () => {
  it('exports ort-node and ort-web, both able to train', () => {
    expect(backends.map((b) => [b.name, b.canTrain])).toEqual([['ort-node', true], ['ort-web', true]]);
  });

  it('rejects bad thread counts', async () => {
    const spec = getPreset('lenet5');
    for (const b of backends) {
      await expect(b.createSession(spec, initWeights(spec, 0), { threads: 0 })).rejects.toThrow(BackendInputError);
      await expect(b.createSession(spec, initWeights(spec, 0), { threads: 1.5 })).rejects.toThrow(/options\.threads must be a positive integer/);
    }
  });

  it('ort-web: the wasm thread count is fixed by the first session; a different one is a clear error', async () => {
    const spec = getPreset('lenet5');
    const first = await ortWebBackend.createSession(spec, initWeights(spec, 0), { threads: 1 });
    await expect(ortWebBackend.createSession(spec, initWeights(spec, 0), { threads: 2 })).rejects.toThrow(
      /initialised with 1 thread\(s\); it cannot be re-initialised with 2/,
    );
    expect((await ortWebBackend.info()).threads).toBe(1);
    await first.dispose();
  });
});

for (const backend of [ortNodeBackend, ortWebBackend]) {
  describe(`${backend.name}: several steps, then predict`, () => {
    it('three SGD steps (varying batch sizes) follow the reference, and predict uses the new weights', async () => {
      const spec = getPreset('lenet5-modern');
      let want = initWeights(spec, 12);
      const session = await backend.createSession(spec, want, { threads: 1 });
      try {
        const x = randomImages(3, 16, 784);
        const y = randomLabels(4, 16, 10);
        for (const n of [16, 5, 16]) {
          const loss = await session.trainStep!(x, y, n, 0.2);
          const ref = referenceSgdStep(spec, want, x, y, n, 0.2);
          expect(loss).toBeCloseTo(ref.loss, 4);
          want = ref.weights;
        }
        const got = await session.getWeights();
        for (const [name, t] of want) assertClose(`${name} after 3 steps`, got.get(name)!.data, t.data, { atol: 1e-5, rtol: 1e-4 });
        // getWeights returns copies.
        got.get('fc3.bias')!.data.fill(100);
        const logits = await session.predict(x, 4);
        assertClose('logits after training', logits, referenceForward(spec, want, x, 4), { atol: 1e-4, rtol: 1e-3 });
      } finally {
        await session.dispose();
      }
      // Generous: the float64 reference steps and wasm start-up are slow on a busy shared machine.
    }, 60_000);
  });
}
