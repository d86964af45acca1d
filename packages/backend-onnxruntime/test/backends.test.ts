import { describe, expect, it } from 'vitest';
import { BackendInputError, assertClose, canTrain, expectTrainingFollowsReference, randomImages, randomLabels, referenceForward, referenceSgdStep } from '@lenet/core';
import { getPreset, initWeights, type ModelSpec } from '@lenet/model';
import { backends, ortNodeBackend, ortWebBackend } from '../src/index.js';

describe('backend list and options', () => {
  it('exports ort-node and ort-web, both able to train', () => {
    expect(backends.map((b) => [b.name, canTrain(b)])).toEqual([['ort-node', true], ['ort-web', true]]);
  });

  it('rejects bad thread counts', async () => {
    const spec = getPreset('lenet5');
    for (const b of backends) {
      await expect(b.createSession(spec, initWeights(spec, 0), { threads: 0 })).rejects.toThrow(BackendInputError);
      await expect(b.createSession(spec, initWeights(spec, 0), { threads: 1.5 })).rejects.toThrow(/options\.threads must be an integer in \[1, 256\]/);
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
      const session = await backend.createTrainingSession(spec, want, { threads: 1 });
      try {
        const x = randomImages(3, 16, 784);
        const y = randomLabels(4, 16, 10);
        for (const n of [16, 5, 16]) {
          const loss = await session.trainStep(x, y, n, 0.2);
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

describe('ort-node: training on several threads is data-parallel', () => {
  it('2 and 3 threads (chunks on worker threads) follow the reference step by step, odd and tiny batches included', async () => {
    const spec = getPreset('lenet5');
    for (const threads of [2, 3]) {
      const session = await ortNodeBackend.createTrainingSession(spec, initWeights(spec, 5), { threads });
      try {
        expect((await ortNodeBackend.info({ threads })).runtime).toContain(`training data-parallel on ${threads} threads`);
        // 16: even chunks; 5: uneven (2+2+1 / 3+2); 2 on 3 threads and 1: fewer chunks than threads.
        await expectTrainingFollowsReference(`${threads} threads`, session, spec, initWeights(spec, 5), randomImages(7, 16, 784), randomLabels(8, 16, 10), [16, 5, 2, 1], 0.3);
      } finally {
        await session.dispose();
      }
      await expect(session.trainStep(randomImages(1, 2, 784), randomLabels(1, 2, 10), 2, 0.1)).rejects.toThrow(/disposed/);
    }
  }, 60_000);

  it('grows the workers\' shared buffers for chunks beyond their first capacity (128 samples)', async () => {
    const spec: ModelSpec = {
      name: 'small',
      inputShape: [1, 8, 8],
      layers: [{ type: 'conv2d', outChannels: 2, kernelSize: 3 }, { type: 'activation', fn: 'relu' }, { type: 'flatten' }, { type: 'dense', units: 4 }],
    };
    const session = await ortNodeBackend.createTrainingSession(spec, initWeights(spec, 3), { threads: 2 });
    try {
      await expectTrainingFollowsReference('growing', session, spec, initWeights(spec, 3), randomImages(13, 600, 64), randomLabels(14, 600, 4), [300, 600, 20], 0.2);
    } finally {
      await session.dispose();
    }
  }, 60_000);

  it('is deterministic for a thread count: two sessions give the same bits', async () => {
    const spec = getPreset('lenet5-modern');
    const x = randomImages(9, 32, 784);
    const y = randomLabels(10, 32, 10);
    const runs: Float32Array[][] = [];
    for (let r = 0; r < 2; r++) {
      const session = await ortNodeBackend.createTrainingSession(spec, initWeights(spec, 2), { threads: 2 });
      try {
        for (let i = 0; i < 3; i++) await session.trainStep(x, y, 32, 0.1);
        const w = await session.getWeights();
        runs.push([...w.values()].map((t) => t.data));
      } finally {
        await session.dispose();
      }
    }
    runs[0]!.forEach((a, i) => expect(Buffer.from(a.buffer).equals(Buffer.from(runs[1]![i]!.buffer))).toBe(true));
  }, 60_000);
});
