// tfjs-wasm: core conformance (training uses the registered Conv2DBackpropFilter), no tensor
// leaks, multi-channel layouts.
import { describe, expect, it } from 'vitest';
import { expectTrainingFollowsReference, randomImages, randomLabels } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { tfjsWasmBackend } from '../src/index.js';
import { backendSuite } from './backend-suite.js';

backendSuite(tfjsWasmBackend, { leakBatch: 16 });

describe('tfjs-wasm info', () => {
  it('reports the SIMD build and its thread count', async () => {
    const info = await tfjsWasmBackend.info();
    expect(info.runtime).toMatch(/^tfjs 4\.22\.0 wasm \(simd, 1 thread(; training data-parallel on \d+ threads)?\)$/);
    expect(info.versions['@tensorflow/tfjs-backend-wasm']).toBe('4.22.0');
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });
});

describe('tfjs-wasm in Node: training on several threads is data-parallel (worker threads, one TF.js wasm instance each)', () => {
  it('2 and 3 threads follow the reference step by step (even, uneven and single-sample batches), then predict with the new weights', async () => {
    const spec = getPreset('lenet5-modern');
    for (const threads of [2, 3]) {
      expect((await tfjsWasmBackend.info({ threads })).runtime).toContain(`training data-parallel on ${threads} threads`);
      const session = await tfjsWasmBackend.createTrainingSession(spec, initWeights(spec, 8), { threads });
      try {
        await expectTrainingFollowsReference(`${threads} threads`, session, spec, initWeights(spec, 8), randomImages(17, 16, 784), randomLabels(18, 16, 10), [16, 5, 1], 0.3);
      } finally {
        await session.dispose();
      }
      await expect(session.trainStep(randomImages(1, 2, 784), randomLabels(1, 2, 10), 2, 0.1)).rejects.toThrow(/after dispose/);
    }
  }, 60_000);

  it('rejects a bad thread count naming the option', async () => {
    const spec = getPreset('lenet5');
    await expect(tfjsWasmBackend.createSession(spec, initWeights(spec, 0), { threads: 0 })).rejects.toThrow(/options\.threads must be an integer in \[1, 256\]/);
  });
});
