import { describe, expect, it } from 'vitest';
import { getPreset, initWeights } from '@lenet/model';
import { ChunkWorkerPool, chunkSizes, sgdFromChunks } from '../src/data-parallel.js';
import { expectTrainingFollowsReference, randomImages, randomLabels } from '../src/index.js';
import { brokenBackend } from './broken-backends.js';

describe('chunkSizes', () => {
  it('cuts n into min(threads, n) contiguous chunks, the first ones one larger', () => {
    expect(chunkSizes(128, 2)).toEqual([64, 64]);
    expect(chunkSizes(5, 2)).toEqual([3, 2]);
    expect(chunkSizes(5, 3)).toEqual([2, 2, 1]);
    expect(chunkSizes(2, 3)).toEqual([1, 1]);
    expect(chunkSizes(1, 4)).toEqual([1]);
    expect(chunkSizes(7, 1)).toEqual([7]);
  });
});

describe('sgdFromChunks', () => {
  it('weights chunk losses and gradients by chunk size, sums in chunk order in float64, rounds once', () => {
    const params = [Float32Array.of(1, 2), Float32Array.of(3)];
    const next = [new Float32Array(2), new Float32Array(1)];
    const grads = [Float32Array.of(0.5, 1, 2), Float32Array.of(1.5, -1, 4)];
    const loss = sgdFromChunks(params, [3, 1], [2, 6], grads, 0.1, next);
    expect(loss).toBeCloseTo(0.75 * 2 + 0.25 * 6, 12);
    const g = [0.75 * 0.5 + 0.25 * 1.5, 0.75 * 1 + 0.25 * -1, 0.75 * 2 + 0.25 * 4];
    expect([...next[0]!]).toEqual([Math.fround(1 - 0.1 * g[0]!), Math.fround(2 - 0.1 * g[1]!)]);
    expect([...next[1]!]).toEqual([Math.fround(3 - 0.1 * g[2]!)]);
    // Three chunks take the general path; one chunk is a plain SGD step.
    const three = [new Float32Array(1)];
    sgdFromChunks([Float32Array.of(1)], [1, 1, 2], [0, 0, 0], [Float32Array.of(4), Float32Array.of(8), Float32Array.of(2)], 1, three);
    expect(three[0]![0]).toBe(Math.fround(1 - (0.25 * 4 + 0.25 * 8 + 0.5 * 2)));
    const one = [new Float32Array(1)];
    expect(sgdFromChunks([Float32Array.of(1)], [4], [3], [Float32Array.of(0.5)], 0.2, one)).toBe(3);
    expect(one[0]![0]).toBe(Math.fround(1 - 0.2 * 0.5));
  });
});

describe('ChunkWorkerPool (a real worker script)', () => {
  const script = new URL('./fixtures/chunk-worker.mjs', import.meta.url);
  const make = (workers: number) => ChunkWorkerPool.create({ label: 'test', script, data: { failOn: 99, exitOn: 98 }, workers, inputSize: 3, paramCount: 4 });
  const x = Float32Array.from({ length: 3 * 300 }, (_, i) => i % 7);
  const y = Int32Array.from({ length: 300 }, (_, i) => i % 5);
  const params = [Float32Array.of(1, 2), Float32Array.of(3, 4)];
  const expected = (start: number, m: number) => {
    let sx = 0;
    for (let i = start * 3; i < (start + m) * 3; i++) sx += x[i]!;
    let loss = 0;
    for (let i = start; i < start + m; i++) loss += y[i]!;
    return { loss, grads: [1, 2, 3, 4].map((k, i) => sx * k + [1, 2, 3, 4][i]!) };
  };

  it('runs chunks on several workers at once and returns their losses and gradients', async () => {
    const pool = await make(2);
    try {
      expect(pool.size).toBe(2);
      for (let round = 0; round < 3; round++) {
        await pool.start(0, x, y, 0, 10, params);
        await pool.start(1, x, y, 10, 7, params);
        const [a, b] = await Promise.all([pool.join(0, round === 0), pool.join(1, false)]);
        expect(a.loss).toBe(expected(0, 10).loss);
        expect([...a.grads]).toEqual(expected(0, 10).grads);
        expect(b.loss).toBe(expected(10, 7).loss);
        expect([...b.grads]).toEqual(expected(10, 7).grads);
      }
    } finally {
      await pool.dispose();
    }
  });

  it('grows a worker buffer for a chunk beyond its first capacity', async () => {
    const pool = await make(1);
    try {
      await pool.start(0, x, y, 0, 300, params);
      const r = await pool.join(0, false);
      expect(r.loss).toBe(expected(0, 300).loss);
      expect([...r.grads]).toEqual(expected(0, 300).grads);
      await pool.start(0, x, y, 5, 3, params);
      expect((await pool.join(0, false)).loss).toBe(expected(5, 3).loss);
    } finally {
      await pool.dispose();
    }
    // Growing runs no step of its own: the worker computes exactly once per start.
    const counting = await ChunkWorkerPool.create({ label: 'test', script, data: { failOn: 99, exitOn: 98, countCalls: true }, workers: 1, inputSize: 3, paramCount: 4 });
    try {
      for (const [k, m] of [[1, 10], [2, 300], [3, 5], [4, 600], [5, 1]] as const) {
        await counting.start(0, x, y, 0, Math.min(m, 300), params);
        expect((await counting.join(0, false)).loss, `computes after start ${k}`).toBe(k);
      }
    } finally {
      await counting.dispose();
    }
  });

  it('a failing chunk rejects with the worker\'s message, and the worker keeps serving', async () => {
    const pool = await make(1);
    try {
      const bad = Int32Array.of(99);
      await pool.start(0, x, bad, 0, 1, params);
      await expect(pool.join(0, false)).rejects.toThrow('test: training worker 1: label 99 is not allowed');
      await pool.start(0, x, y, 0, 2, params);
      expect((await pool.join(0, false)).loss).toBe(expected(0, 2).loss);
    } finally {
      await pool.dispose();
    }
  });

  it('a worker that dies rejects the join instead of hanging, and later starts fail at once', async () => {
    const pool = await make(1);
    try {
      await pool.start(0, x, Int32Array.of(98), 0, 1, params);
      await expect(pool.join(0, false)).rejects.toThrow(/training worker 1: exited \(code 3\)/);
      await expect(pool.start(0, x, y, 0, 1, params)).rejects.toThrow(/exited/);
    } finally {
      await pool.dispose();
    }
  });

  it('names a missing worker script', async () => {
    await expect(ChunkWorkerPool.create({ label: 'test', script: new URL('./fixtures/nope.mjs', import.meta.url), data: {}, workers: 1, inputSize: 1, paramCount: 1 })).rejects.toThrow(/worker script .*nope\.mjs not found/);
  });
});

describe('expectTrainingFollowsReference (the check the data-parallel backend tests use)', () => {
  const spec = getPreset('lenet5');
  const x = randomImages(3, 8, 784);
  const y = randomLabels(4, 8, 10);
  it('passes a float32 backend that trains correctly', async () => {
    const s = await brokenBackend('float32-noise').createTrainingSession(spec, initWeights(spec, 1));
    await expectTrainingFollowsReference('float32', s, spec, initWeights(spec, 1), x, y, [8, 3, 1], 0.2);
  });
  it('names the step whose loss or weights go wrong', async () => {
    const once = await brokenBackend('updates-once').createTrainingSession(spec, initWeights(spec, 1));
    await expect(expectTrainingFollowsReference('updates-once', once, spec, initWeights(spec, 1), x, y, [8, 3, 1], 0.2)).rejects.toThrow(/updates-once: step 3 \(batch 1\) loss/) // step 2 is the first update lost; step 3 sees it;
    const sum = await brokenBackend('sum-not-mean').createTrainingSession(spec, initWeights(spec, 1));
    await expect(expectTrainingFollowsReference('sum', sum, spec, initWeights(spec, 1), x, y, [8], 0.2)).rejects.toThrow(/sum: \S+ after 1 steps/);
  });
});

describe('ChunkWorkerPool under a stream of tiny steps', () => {
  it('never misses a worker finishing between the main thread\'s check and its wait (5,000 steps, 2 workers)', async () => {
    // A lost wake-up here once hung training after a few hundred steps: the join re-read the
    // done counter for its wait after the worker had already stored it.
    const script = new URL('./fixtures/chunk-worker.mjs', import.meta.url);
    const pool = await ChunkWorkerPool.create({ label: 'stress', script, data: { failOn: -1, exitOn: -2 }, workers: 2, inputSize: 1, paramCount: 1 });
    try {
      const x = Float32Array.of(1, 2);
      const y = Int32Array.of(3, 4);
      const p = [Float32Array.of(0)];
      for (let i = 0; i < 5000; i++) {
        await pool.start(0, x, y, 0, 1, p);
        await pool.start(1, x, y, 1, 1, p);
        const [a, b] = await Promise.all([pool.join(0, false), pool.join(1, false)]);
        if (a.loss !== 3 || b.loss !== 4) throw new Error(`step ${i}: losses ${a.loss}, ${b.loss}`);
      }
    } finally {
      await pool.dispose();
    }
  }, 30_000);
});
