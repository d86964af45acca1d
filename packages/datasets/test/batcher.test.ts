import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Batcher, epochOrder, splitToFloat } from '../src/index.js';
import type { ImageSplit } from '../src/index.js';
import { sampleIndexOf, syntheticSplit } from './helpers.js';

const labels = (n: number): number[] => Array.from({ length: n }, (_, i) => (i * 3) % 10);

/** Every batch of an epoch, copied out of the reused buffers. */
function collect(b: Batcher, epoch: number): { n: number; x: number[]; y: number[]; indices: number[] }[] {
  const px = b.split.rows * b.split.cols;
  return Array.from(b.epoch(epoch), (batch) => ({
    n: batch.n,
    x: Array.from(batch.x.subarray(0, batch.n * px)),
    y: Array.from(batch.y.subarray(0, batch.n)),
    indices: Array.from(batch.indices.subarray(0, batch.n)),
  }));
}

describe('Batcher', () => {
  it("'partial' (default) ends with a smaller batch; 'drop' drops it", () => {
    const split = syntheticSplit(labels(10));
    const partial = new Batcher(split, { batchSize: 4 });
    expect(partial.batchesPerEpoch).toBe(3);
    expect(collect(partial, 0).map((b) => b.n)).toEqual([4, 4, 2]);
    const drop = new Batcher(split, { batchSize: 4, lastBatch: 'drop' });
    expect(drop.batchesPerEpoch).toBe(2);
    expect(drop.samplesPerEpoch).toBe(8);
    expect(collect(drop, 0).map((b) => b.n)).toEqual([4, 4]);
    expect(new Batcher(split, { batchSize: 5 }).batchesPerEpoch).toBe(2);
    expect(new Batcher(split, { batchSize: 11, lastBatch: 'drop' }).batchesPerEpoch).toBe(0);
    expect(collect(new Batcher(split, { batchSize: 11, lastBatch: 'drop' }), 0)).toEqual([]);
  });

  it('visits every sample exactly once per epoch in epochOrder, with matching pixels/255 and labels', () => {
    // 4x4 images take the two-pixels-at-a-time path, 3x3 the one-at-a-time path.
    for (const [rows, cols] of [
      [4, 4],
      [3, 3],
    ]) {
      const split = syntheticSplit(labels(103), rows, cols);
      const b = new Batcher(split, { batchSize: 16, seed: 9 });
      const px = rows * cols;
      const seen: number[] = [];
      for (const batch of collect(b, 2)) {
        for (let i = 0; i < batch.n; i++) {
          const idx = batch.indices[i];
          seen.push(idx);
          expect(batch.y[i]).toBe(split.labels[idx]);
          expect(batch.x.slice(i * px, (i + 1) * px)).toEqual(Array.from(splitToFloat(split, idx, 1)));
          expect(Math.round(batch.x[i * px] * 255) + 256 * Math.round(batch.x[i * px + 1] * 255)).toBe(idx);
        }
      }
      expect(seen).toEqual(Array.from(epochOrder(103, 9, 2)));
      expect([...seen].sort((a, c) => a - c)).toEqual([...Array(103).keys()]);
    }
  });

  it('is deterministic: same seed/epoch same batches, another epoch another order', () => {
    const split = syntheticSplit(labels(50));
    const a = collect(new Batcher(split, { batchSize: 8, seed: 3 }), 1);
    const b = collect(new Batcher(split, { batchSize: 8, seed: 3 }), 1);
    expect(b).toEqual(a);
    const c = collect(new Batcher(split, { batchSize: 8, seed: 3 }), 2);
    expect(c.flatMap((x) => x.indices)).not.toEqual(a.flatMap((x) => x.indices));
  });

  it('shuffle: false visits samples in file order', () => {
    const split = syntheticSplit(labels(10));
    const batches = collect(new Batcher(split, { batchSize: 3, shuffle: false }), 5);
    expect(batches.flatMap((b) => b.indices)).toEqual([...Array(10).keys()]);
  });

  it('reuses the same batch object and buffers (no allocation per batch)', () => {
    const split = syntheticSplit(labels(20));
    const b = new Batcher(split, { batchSize: 4 });
    const seen = new Set<unknown>();
    const xs = new Set<unknown>();
    for (const batch of b.epoch(0)) {
      seen.add(batch);
      xs.add(batch.x);
      expect(batch.x.length).toBe(4 * 16);
      expect(batch.y.length).toBe(4);
    }
    expect(seen.size).toBe(1);
    expect(xs.size).toBe(1);
  });

  it('handles an unaligned images view (falls back to one pixel at a time)', () => {
    const split = syntheticSplit(labels(30));
    const shifted = new Uint8Array(split.images.length + 1);
    shifted.set(split.images, 1);
    const odd: ImageSplit = { ...split, images: shifted.subarray(1) };
    const a = collect(new Batcher(split, { batchSize: 7, seed: 1 }), 0);
    const b = collect(new Batcher(odd, { batchSize: 7, seed: 1 }), 0);
    expect(b).toEqual(a);
  });

  it('every sample once per epoch for any size (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 64 }), fc.boolean(), fc.nat(10), (count, batchSize, drop, epoch) => {
        const b = new Batcher(syntheticSplit(labels(count), 2, 2), { batchSize, lastBatch: drop ? 'drop' : 'partial', seed: count });
        const idx: number[] = [];
        let batches = 0;
        for (const batch of b.epoch(epoch)) {
          batches++;
          expect(batch.n).toBeGreaterThan(0);
          for (let i = 0; i < batch.n; i++) {
            idx.push(batch.indices[i]);
            expect(sampleIndexOf(Array.from(batch.x, (v) => Math.round(v * 255)), i * 4)).toBe(batch.indices[i]);
          }
        }
        expect(batches).toBe(b.batchesPerEpoch);
        const expected = drop ? Math.floor(count / batchSize) * batchSize : count;
        expect(idx.length).toBe(expected);
        expect(new Set(idx).size).toBe(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('rejects bad options and inconsistent splits', () => {
    const split = syntheticSplit(labels(10));
    expect(() => new Batcher(split, { batchSize: 0 })).toThrow(/batchSize/);
    expect(() => new Batcher(split, { batchSize: 2.5 })).toThrow(/batchSize/);
    expect(() => new Batcher(split, { batchSize: 2, seed: 0.1 })).toThrow(/seed/);
    expect(() => new Batcher(split, { batchSize: 2, lastBatch: 'keep' as 'drop' })).toThrow(/lastBatch/);
    expect(() => new Batcher({ ...split, count: 11 }, { batchSize: 2 })).toThrow(/images has 160 bytes/);
    const b = new Batcher(split, { batchSize: 2 });
    expect(() => b.epoch(-1)).toThrow(/epoch/);
    expect(() => b.fill([0, 10], 0, 2)).toThrow(/sample index 10/);
    expect(() => b.fill([0, 1, 2], 0, 3)).toThrow(/n must be in 0..2/);
  });
});
