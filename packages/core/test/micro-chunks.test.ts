import { describe, expect, it } from 'vitest';
import { applyGradientSlots, applyMicroChunkGradients, microChunkCount, microChunkSizes, sgdFromMicroChunks, threadChunkRanges } from '../src/index.js';

const bits = (a: Float32Array) => [...new Uint32Array(a.buffer, a.byteOffset, a.length)];
const params = [Float32Array.from({ length: 5 }, (_, i) => 0.1 * i - 0.2), Float32Array.of(0.3, -0.7, 1.1)];
const PARAMS = 8;
const flat = (ps: readonly Float32Array[]) => {
  const out = new Float32Array(PARAMS);
  let off = 0;
  for (const p of ps) (out.set(p, off), (off += p.length));
  return out;
};
/** Gradients of very different magnitudes per chunk, so even a float64 sum in another order would differ. */
const gradsFor = (chunks: number) => Array.from({ length: chunks }, (_, k) => Float32Array.from({ length: PARAMS }, (_, j) => Math.sin(k * 10 + j) * 10 ** (((k * 7) % 40) - 20)));

describe('microChunkSizes, microChunkCount and threadChunkRanges', () => {
  it('cuts a batch into fixed micro-chunks (the last shorter), whatever the thread count', () => {
    expect(microChunkSizes(128, 16)).toEqual(Array(8).fill(16));
    expect(microChunkSizes(100, 32)).toEqual([32, 32, 32, 4]);
    expect(microChunkSizes(5, 64)).toEqual([5]);
    for (const [n, chunk] of [[128, 16], [100, 32], [5, 64], [1, 1], [97, 16]] as const) expect(microChunkCount(n, chunk)).toBe(microChunkSizes(n, chunk).length);
    expect(() => microChunkSizes(8, 0)).toThrow(/positive integer/);
    expect(() => microChunkCount(8, 1.5)).toThrow(/positive integer/);
  });
  it('gives each thread a contiguous run of micro-chunks, together all of them once, in order', () => {
    for (const chunks of [1, 2, 7, 8]) {
      for (let threads = 1; threads <= 5; threads++) {
        const ranges = threadChunkRanges(chunks, threads);
        expect(ranges[0]!.first).toBe(0);
        expect(ranges.at(-1)!.end).toBe(chunks);
        ranges.forEach((r, t) => t > 0 && expect(r.first).toBe(ranges[t - 1]!.end));
      }
    }
    expect(threadChunkRanges(8, 2)).toEqual([{ first: 0, end: 4 }, { first: 4, end: 8 }]);
  });
});

describe('sgdFromMicroChunks (mean-loss gradients weighted by size)', () => {
  it('equals the per-parameter float64 sum in micro-chunk order, rounded once (1, 2, 3 and 5 micro-chunks)', () => {
    for (const sizes of [[9], [64, 36], [16, 16, 4], [16, 16, 16, 16, 7]]) {
      const n = sizes.reduce((a, b) => a + b, 0);
      const grads = gradsFor(sizes.length);
      const losses = sizes.map((_, k) => (2 * k + 1) / (k + 7));
      const next = [new Float32Array(5), new Float32Array(3)];
      const loss = sgdFromMicroChunks(params, sizes, losses, grads, 0.1, next);
      const p = flat(params);
      const expected = new Float32Array(PARAMS);
      let expectedLoss = 0;
      for (let k = 0; k < sizes.length; k++) expectedLoss += (sizes[k]! / n) * losses[k]!;
      for (let j = 0; j < PARAMS; j++) {
        let s = 0;
        for (let k = 0; k < sizes.length; k++) s += (sizes[k]! / n) * grads[k]![j]!;
        expected[j] = Math.fround(p[j]! - 0.1 * s);
      }
      expect(bits(flat(next)), `sizes ${sizes}`).toEqual(bits(expected));
      expect(loss, `sizes ${sizes}`).toBe(expectedLoss);
    }
  });
});

describe('applyGradientSlots (plain: pre-scaled gradient slots side by side, a range at a time)', () => {
  it('equals applyMicroChunkGradients with unit weights and a per-parameter float64 sum in slot order, bit for bit', () => {
    for (const chunks of [1, 2, 7]) {
      const grads = gradsFor(chunks);
      const slots = new Float32Array(chunks * PARAMS);
      grads.forEach((g, c) => slots.set(g, c * PARAMS));
      const p = flat(params);
      const expected = new Float32Array(PARAMS);
      for (let j = 0; j < PARAMS; j++) {
        let s = 0;
        for (let k = 0; k < chunks; k++) s += grads[k]![j]!;
        expected[j] = p[j]! - 0.1 * s;
      }
      const viaViews = [flat(params)];
      applyMicroChunkGradients(viaViews, new Array<number>(chunks).fill(1), grads, 0.1, viaViews);
      // Two ranges (as two threads would claim them), the first not a multiple of 4 long.
      const viaSlots = flat(params);
      applyGradientSlots(viaSlots, slots, PARAMS, chunks, 0.1, 0, 3);
      applyGradientSlots(viaSlots, slots, PARAMS, chunks, 0.1, 3, PARAMS);
      expect(bits(viaViews[0]!), `${chunks} chunk(s), views`).toEqual(bits(expected));
      expect(bits(viaSlots), `${chunks} chunk(s), slots`).toEqual(bits(expected));
    }
  });
  it('applyMicroChunkGradients refuses an empty list of micro-chunks', () => {
    expect(() => applyMicroChunkGradients(params, [], [], 0.1, [new Float32Array(5), new Float32Array(3)])).toThrow(/no micro-chunks/);
  });
});
