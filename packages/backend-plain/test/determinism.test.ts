/**
 * Same seed => bit-identical weights after N steps, for any thread count, on every kernel tier
 * (TypeScript, WebAssembly SIMD128, WebAssembly relaxed SIMD): gradients are computed per fixed
 * 16-sample micro-chunk and summed in chunk order, whichever thread computed them. Also checks
 * capacity growth and that dispose() stops the workers.
 */
import { describe, expect, it } from 'vitest';
import { randomImages, randomLabels, type OptimizerOptions } from '@lenet/core';
import { getPreset, initWeights, type Weights } from '@lenet/model';
import { plainBackend, plainJsBackend, PlainSession, type PlainBackend } from '../dist/index.js';
import { TIERS } from './tiers.js';

function bits(w: Weights): Map<string, Uint32Array> {
  return new Map([...w].map(([k, t]) => [k, new Uint32Array(t.data.buffer.slice(0))]));
}

async function trainRun(backend: PlainBackend, threads: number, maxBatchSize?: number, optimizer?: OptimizerOptions) {
  const spec = getPreset('lenet5');
  const s = optimizer
    ? await backend.createTrainingSession(spec, initWeights(spec, 0), { threads, maxBatchSize, optimizer })
    : await backend.createSession(spec, initWeights(spec, 0), { threads, maxBatchSize });
  const n = 100; // 7 micro-chunks, the last one partial
  const losses: number[] = [];
  for (let step = 0; step < 4; step++) {
    const x = randomImages(100 + step, n, 784);
    const y = randomLabels(200 + step, n, 10);
    losses.push(await s.trainStep(x, y, n, 0.1));
  }
  const w = bits(await s.getWeights());
  await s.dispose();
  return { w, losses };
}

const tiers = [
  { label: 'plain-js', backend: plainJsBackend, unavailable: null as string | null },
  ...TIERS.map((t) => ({ label: `plain [${t.tier}]`, backend: t.backend, unavailable: t.unavailable })),
];

for (const { label, backend, unavailable } of tiers) {
  describe(`${label} determinism`, () => {
    it('weights after 4 steps are bit-identical for 1, 2 and 3 threads and across runs', async (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const base = await trainRun(backend, 1);
      for (const threads of [2, 3, 2]) {
        const r = await trainRun(backend, threads);
        expect(r.losses, `losses with ${threads} threads`).toEqual(base.losses);
        for (const [name, b] of base.w) {
          expect(r.w.get(name)!.every((v, i) => v === b[i]), `${name} with ${threads} threads`).toBe(true);
        }
      }
    });

    it('with momentum 0.9 (Nesterov) and weight decay: bit-identical for 1, 2 and 3 threads, velocity kept when the buffers grow', async (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const optimizer = { momentum: 0.9, nesterov: true, weightDecay: 5e-4 };
      const base = await trainRun(backend, 1, undefined, optimizer);
      const plainSgd = await trainRun(backend, 1);
      expect([...base.w.get('conv1.weight')!]).not.toEqual([...plainSgd.w.get('conv1.weight')!]);
      for (const [threads, maxBatch] of [[2, undefined], [3, undefined], [2, 8]] as const) {
        const r = await trainRun(backend, threads, maxBatch, optimizer);
        expect(r.losses, `losses with ${threads} threads`).toEqual(base.losses);
        for (const [name, b] of base.w) {
          expect(r.w.get(name)!.every((v, i) => v === b[i]), `${name} with ${threads} threads, maxBatchSize ${maxBatch}`).toBe(true);
        }
      }
    });

    it('grows past maxBatchSize (restarting its workers) without changing results', async (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const base = await trainRun(backend, 2);
      const grown = await trainRun(backend, 2, 8);
      for (const [name, b] of base.w) expect(grown.w.get(name)!.every((v, i) => v === b[i]), name).toBe(true);
    });
  });
}

describe('session lifecycle', () => {
  it('runs threads - 1 workers and stops them on dispose', async () => {
    const spec = getPreset('lenet5');
    const s = (await plainBackend.createSession(spec, initWeights(spec, 0), { threads: 3 })) as PlainSession;
    expect(s.activeWorkers).toBe(2);
    const x = randomImages(1, 64, 784);
    const out = await s.predict(x, 64);
    expect(out.length).toBe(640);
    // Batch 1 runs on the main thread alone and agrees with the batched result.
    const one = await s.predict(x.subarray(784 * 5), 1);
    expect(Array.from(one)).toEqual(Array.from(out.subarray(50, 60)));
    await s.dispose();
    expect(s.activeWorkers).toBe(0);
    await expect(s.predict(x, 1)).rejects.toThrow(/after dispose/);
    await s.dispose(); // idempotent
  });

  it('serialises overlapping calls instead of interleaving them', async () => {
    const spec = getPreset('lenet5');
    const s = await plainJsBackend.createSession(spec, initWeights(spec, 0), { threads: 2 });
    const x = randomImages(3, 40, 784);
    const y = randomLabels(4, 40, 10);
    const [before, loss, after] = await Promise.all([s.predict(x, 40), s.trainStep(x, y, 40, 0.5), s.predict(x, 40)]);
    expect(Number.isFinite(loss)).toBe(true);
    expect(Array.from(after)).not.toEqual(Array.from(before));
    await s.dispose();
  });

  it('rejects a bad thread count with a clear error', async () => {
    const spec = getPreset('lenet5');
    await expect(plainBackend.createSession(spec, initWeights(spec, 0), { threads: 0 })).rejects.toThrow(/threads must be an integer/);
    await expect(plainBackend.createSession(spec, initWeights(spec, 0), { maxBatchSize: 1.5 })).rejects.toThrow(/maxBatchSize/);
  });
});
