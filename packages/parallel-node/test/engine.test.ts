import { describe, expect, it } from 'vitest';
import { sgdFromMicroChunks, sgdMomentumUpdate, type SgdMomentum } from '@lenet/core';
import { DataParallelEngine, MicroChunkPool } from '../src/index.js';
// @ts-expect-error a plain .mjs fixture without types
import { chunkResult } from './fixtures/chunk-worker.mjs';

type Result = { loss: number; grads: Float32Array };
const compute = chunkResult as (x: Float32Array, y: Int32Array, n: number, inputSize: number, params: Float32Array) => Result;

const script = new URL('./fixtures/chunk-worker.mjs', import.meta.url);
const INPUT = 3;
const x = Float32Array.from({ length: INPUT * 300 }, (_, i) => ((i * 7919) % 101) / 37);
const y = Int32Array.from({ length: 300 }, (_, i) => (i * 31) % 10);
const params = [Float32Array.from({ length: 5 }, (_, i) => 0.1 * i - 0.2), Float32Array.of(0.3, -0.7, 1.1)];
const PARAMS = 8;
const flat = (ps: readonly Float32Array[]) => {
  const out = new Float32Array(PARAMS);
  let off = 0;
  for (const p of ps) (out.set(p, off), (off += p.length));
  return out;
};

/** The rule computed serially, the obvious way: per parameter, sum over micro-chunks in order. */
function serialStep(n: number, chunk: number, lr: number): { loss: number; next: Float32Array } {
  const p = flat(params);
  const results: { m: number; r: Result }[] = [];
  for (let start = 0; start < n; start += chunk) {
    const m = Math.min(chunk, n - start);
    results.push({ m, r: compute(x.subarray(start * INPUT, (start + m) * INPUT), y.subarray(start, start + m), m, INPUT, p) });
  }
  let loss = 0;
  for (const { m, r } of results) loss += (m / n) * r.loss;
  const next = new Float32Array(PARAMS);
  for (let j = 0; j < PARAMS; j++) {
    let s = 0;
    for (const { m, r } of results) s += (m / n) * r.grads[j]!;
    next[j] = Math.fround(p[j]! - lr * s);
  }
  return { loss, next };
}

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
const local = (x: Float32Array, y: Int32Array, start: number, m: number) => compute(x.subarray(start * INPUT, (start + m) * INPUT), y.subarray(start, start + m), m, INPUT, flat(params));

describe('sgdFromMicroChunks with an optimizer', () => {
  it('applies sgdMomentumUpdate to the same float64 micro-chunk sum, velocity carried across steps', () => {
    const sgd: SgdMomentum = { momentum: 0.9, weightDecay: 5e-4, nesterov: true };
    const sizes = [16, 4];
    const velocity = new Float64Array(PARAMS);
    const expectedVelocity = new Float64Array(PARAMS);
    let p = flat(params);
    let current = [params[0]!.slice(), params[1]!.slice()];
    for (let step = 0; step < 3; step++) {
      const grads = sizes.map((_, k) => Float32Array.from({ length: PARAMS }, (_, j) => Math.cos(step * 7 + k * 3 + j)));
      const next = [new Float32Array(5), new Float32Array(3)];
      sgdFromMicroChunks(current, sizes, [1, 2], grads, 0.1, next, undefined, { sgd, velocity });
      const expected = new Float32Array(PARAMS);
      for (let j = 0; j < PARAMS; j++) {
        const s = 0 + (16 / 20) * grads[0]![j]! + (4 / 20) * grads[1]![j]!;
        expected[j] = sgdMomentumUpdate(p[j]!, s, 0.1, sgd, expectedVelocity, j);
      }
      expect(bits(flat(next)), `step ${step + 1}`).toEqual(bits(expected));
      expect([...velocity]).toEqual([...expectedVelocity]);
      current = next;
      p = flat(next);
    }
  });
});

describe('DataParallelEngine: bit-identical for any thread count', () => {
  it('with an optimizer: 1, 2 threads and workers-only give the same weights over 3 steps (velocity per engine)', async () => {
    const optimizer: SgdMomentum = { momentum: 0.9, weightDecay: 1e-3, nesterov: false };
    let base: number[] | undefined;
    for (const s of [{ workers: 0, local: true }, { workers: 1, local: true }, { workers: 2, local: false }]) {
      const engine = await DataParallelEngine.create({ label: 'test', script, data: { failOn: 99, exitOn: 98 }, workers: s.workers, inputSize: INPUT, paramCount: PARAMS, microChunk: 16, optimizer });
      try {
        let current = [params[0]!.slice(), params[1]!.slice()];
        for (let step = 0; step < 3; step++) {
          const next = [new Float32Array(5), new Float32Array(3)];
          const localNow = (xs: Float32Array, ys: Int32Array, start: number, m: number) => compute(xs.subarray(start * INPUT, (start + m) * INPUT), ys.subarray(start, start + m), m, INPUT, flat(current));
          await engine.step(x, y, 100, 0.05, current, next, s.local ? localNow : null);
          current = next;
        }
        const got = bits(flat(current));
        if (base) expect(got, JSON.stringify(s)).toEqual(base);
        else base = got;
      } finally {
        await engine.dispose();
      }
    }
    // Momentum moved the weights elsewhere than three plain steps would.
    expect(base).not.toEqual(bits(serialStep(100, 16, 0.05).next));
  });

  for (const [n, chunk] of [[100, 16], [128, 32], [9, 16]] as const) {
    it(`n ${n}, micro-chunk ${chunk}: 1, 2, 3 threads and workers-only equal the serial rule bit for bit, loss in float64`, async () => {
      const expected = serialStep(n, chunk, 0.05);
      // A loss that float32 cannot hold: the engine must not round it on the way.
      expect(Math.fround(expected.loss)).not.toBe(expected.loss);
      const setups = [{ workers: 0, local: true }, { workers: 1, local: true }, { workers: 2, local: true }, { workers: 2, local: false }];
      for (const s of setups) {
        const engine = await DataParallelEngine.create({ label: 'test', script, data: { failOn: 99, exitOn: 98 }, workers: s.workers, inputSize: INPUT, paramCount: PARAMS, microChunk: chunk });
        try {
          const next = [new Float32Array(5), new Float32Array(3)];
          for (let round = 0; round < 2; round++) {
            const loss = await engine.step(x, y, n, 0.05, params, next, s.local ? local : null);
            expect(loss, `${JSON.stringify(s)} loss`).toBe(expected.loss);
            expect(bits(flat(next)), `${JSON.stringify(s)} weights`).toEqual(bits(expected.next));
          }
        } finally {
          await engine.dispose();
        }
      }
    });
  }

  it('rejects a step with neither a local compute nor workers, and bad sizes', async () => {
    const engine = await DataParallelEngine.create({ label: 'test', workers: 0, inputSize: INPUT, paramCount: PARAMS, microChunk: 16 });
    await expect(engine.step(x, y, 4, 0.1, params, [new Float32Array(5), new Float32Array(3)], null)).rejects.toThrow(/needs a local compute/);
    await expect(DataParallelEngine.create({ label: 'test', workers: 0, inputSize: 1, paramCount: 1, microChunk: 0 })).rejects.toThrow(/micro-chunk size/);
    await expect(DataParallelEngine.create({ label: 'test', workers: 1, inputSize: 1, paramCount: 1, microChunk: 8 })).rejects.toThrow(/without a worker script/);
  });

  it('a failing worker rejects the step with its message after every worker was joined', async () => {
    const engine = await DataParallelEngine.create({ label: 'test', script, data: { failOn: 99, exitOn: 98 }, workers: 2, inputSize: INPUT, paramCount: PARAMS, microChunk: 4 });
    try {
      const bad = y.slice(0, 16);
      bad[12] = 99;
      await expect(engine.step(x, bad, 16, 0.1, params, [new Float32Array(5), new Float32Array(3)], null)).rejects.toThrow('test: training worker 2: label 99 is not allowed');
      const next = [new Float32Array(5), new Float32Array(3)];
      expect(await engine.step(x, y, 16, 0.05, params, next, null)).toBe(serialStep(16, 4, 0.05).loss);
    } finally {
      await engine.dispose();
    }
  });
});

describe('MicroChunkPool (a real worker script)', () => {
  const make = (workers: number, data: object = { failOn: 99, exitOn: 98 }) => MicroChunkPool.create({ label: 'test', script, data, workers, inputSize: INPUT, paramCount: PARAMS, microChunk: 16 });
  const p = flat(params);
  const expectedChunk = (start: number, m: number) => compute(x.subarray(start * INPUT, (start + m) * INPUT), y.subarray(start, start + m), m, INPUT, p);

  it('runs on several workers at once and returns each micro-chunk\'s loss and gradients', async () => {
    const pool = await make(2);
    try {
      for (let round = 0; round < 3; round++) {
        await pool.start(0, x, y, 0, 32, params);
        await pool.start(1, x, y, 32, 20, params);
        const [a, b] = await Promise.all([pool.join(0, 32, round === 0), pool.join(1, 20, false)]);
        expect([...a.losses]).toEqual([expectedChunk(0, 16).loss, expectedChunk(16, 16).loss]);
        expect([...a.grads[1]!]).toEqual([...expectedChunk(16, 16).grads]);
        expect([...b.losses]).toEqual([expectedChunk(32, 16).loss, expectedChunk(48, 4).loss]);
        expect([...b.grads[1]!]).toEqual([...expectedChunk(48, 4).grads]);
      }
      await expect(pool.start(0, x, y, 8, 8, params)).rejects.toThrow(/not on a micro-chunk boundary/);
    } finally {
      await pool.dispose();
    }
  });

  it('grows a worker buffer beyond its first capacity, computing exactly once per micro-chunk (resize generation)', async () => {
    const pool = await make(1);
    try {
      await pool.start(0, x, y, 0, 300, params);
      const r = await pool.join(0, 300, false);
      expect(r.losses.length).toBe(19);
      expect(r.losses[18]).toBe(expectedChunk(288, 12).loss);
      await pool.start(0, x, y, 16, 3, params);
      expect((await pool.join(0, 3, false)).losses[0]).toBe(expectedChunk(16, 3).loss);
    } finally {
      await pool.dispose();
    }
    // Growing runs no step of its own: a resized worker must not take the resize for a new step.
    const counting = await make(1, { failOn: 99, exitOn: 98, countCalls: true });
    try {
      let calls = 0;
      for (const m of [10, 300, 5, 300, 1]) {
        await counting.start(0, x, y, 0, m, params);
        const r = await counting.join(0, m, false);
        calls += Math.ceil(m / 16);
        expect(r.losses.at(-1), `computes after a start of ${m}`).toBe(calls);
      }
    } finally {
      await counting.dispose();
    }
  });

  it('a worker that dies rejects the join instead of hanging, and later starts fail at once', async () => {
    const pool = await make(1);
    try {
      await pool.start(0, x, Int32Array.of(98), 0, 1, params);
      await expect(pool.join(0, 1, false)).rejects.toThrow(/training worker 1: exited \(code 3\)/);
      await expect(pool.start(0, x, y, 0, 1, params)).rejects.toThrow(/exited/);
    } finally {
      await pool.dispose();
    }
  });

  it('lets every worker run its cleanup before terminating it (a native session released first)', async () => {
    const cleanedUp = [new SharedArrayBuffer(4), new SharedArrayBuffer(4)];
    const engines = await Promise.all(cleanedUp.map((flag) => DataParallelEngine.create({ label: 'test', script, data: { failOn: 99, exitOn: 98, cleanedUp: flag }, workers: 1, inputSize: INPUT, paramCount: PARAMS, microChunk: 16 })));
    for (const engine of engines) await engine.step(x, y, 64, 0.05, params, [new Float32Array(5), new Float32Array(3)], local);
    await Promise.all(engines.map((e) => e.dispose()));
    expect(cleanedUp.map((b) => new Int32Array(b)[0])).toEqual([1, 1]);
  });

  it('names a missing worker script', async () => {
    await expect(MicroChunkPool.create({ label: 'test', script: new URL('./fixtures/nope.mjs', import.meta.url), data: {}, workers: 1, inputSize: 1, paramCount: 1, microChunk: 1 })).rejects.toThrow(/worker script .*nope\.mjs not found/);
  });

  it('never misses a worker finishing between the main thread\'s check and its wait (5,000 steps, 2 workers)', async () => {
    // A lost wake-up here once hung training after a few hundred steps: the join re-read the
    // done counter for its wait after the worker had already stored it.
    const pool = await MicroChunkPool.create({ label: 'stress', script, data: { failOn: -1, exitOn: -2 }, workers: 2, inputSize: 1, paramCount: 1, microChunk: 1 });
    try {
      const xs = Float32Array.of(1, 2);
      const ys = Int32Array.of(7, 14);
      const ps = [Float32Array.of(0)];
      for (let i = 0; i < 5000; i++) {
        await pool.start(0, xs, ys, 0, 1, ps);
        await pool.start(1, xs, ys, 1, 1, ps);
        const [a, b] = await Promise.all([pool.join(0, 1, false), pool.join(1, 1, false)]);
        if (a.losses[0] !== 1 || b.losses[0] !== 2) throw new Error(`step ${i}: losses ${a.losses[0]}, ${b.losses[0]}`);
      }
    } finally {
      await pool.dispose();
    }
  }, 30_000);
});
