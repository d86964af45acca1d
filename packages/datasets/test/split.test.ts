import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdxError, PIXEL_TO_FLOAT, classCounts, encodeIdx, parseImageSplit, splitToFloat, stratifiedSubset, stratifiedHoldout } from '../src/index.js';
import { sampleIndexOf, syntheticSplit } from './helpers.js';

function imagesFile(count: number, rows = 28, cols = 28, fill = (i: number) => i & 255): Uint8Array {
  return encodeIdx({ dtype: 'uint8', dims: [count, rows, cols], data: Uint8Array.from({ length: count * rows * cols }, (_, i) => fill(i)) });
}
function labelsFile(labels: number[]): Uint8Array {
  return encodeIdx({ dtype: 'uint8', dims: [labels.length], data: Uint8Array.from(labels) });
}

describe('parseImageSplit', () => {
  it('builds a split with catalog class names and views of the data', () => {
    const s = parseImageSplit(imagesFile(3), labelsFile([9, 0, 4]), { dataset: 'fashion-mnist', split: 'test' });
    expect(s.count).toBe(3);
    expect([s.rows, s.cols]).toEqual([28, 28]);
    expect(Array.from(s.labels)).toEqual([9, 0, 4]);
    expect(s.images.length).toBe(3 * 784);
    expect(s.images[785]).toBe(785 & 255);
    expect(s.classNames[9]).toBe('Ankle boot');
    expect(s.dataset).toBe('fashion-mnist');
    expect(s.split).toBe('test');
  });

  const meta = { dataset: 'mnist', split: 'train', imagesFile: 'imgs', labelsFile: 'lbls' } as const;
  const expectMismatch = (fn: () => unknown, file: string, text: RegExp): void => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(IdxError);
      expect((err as IdxError).file).toBe(file);
      expect((err as IdxError).message).toMatch(text);
      return;
    }
    throw new Error('expected an IdxError');
  };

  it('rejects counts that disagree', () => {
    expectMismatch(() => parseImageSplit(imagesFile(3), labelsFile([1, 2]), meta), 'lbls', /2 labels but imgs has 3 images/);
  });
  it('rejects the wrong image size', () => {
    expectMismatch(() => parseImageSplit(imagesFile(2, 28, 27), labelsFile([1, 2]), meta), 'imgs', /expected 28x28 images, got 28x27/);
  });
  it('rejects labels out of range', () => {
    expectMismatch(() => parseImageSplit(imagesFile(2), labelsFile([1, 10]), meta), 'lbls', /label 10 at index 1 is out of range/);
  });
  it('rejects the wrong rank and dtype', () => {
    expectMismatch(() => parseImageSplit(labelsFile([1, 2]), labelsFile([1, 2]), meta), 'imgs', /rank 3/);
    expectMismatch(() => parseImageSplit(imagesFile(2), imagesFile(2), meta), 'lbls', /rank 1/);
    const int8Labels = encodeIdx({ dtype: 'int8', dims: [2], data: Int8Array.from([1, 2]) });
    expectMismatch(() => parseImageSplit(imagesFile(2), int8Labels, meta), 'lbls', /uint8/);
  });
  it('rejects an empty split and an unexpected count', () => {
    expectMismatch(() => parseImageSplit(imagesFile(0), labelsFile([]), meta), 'imgs', /no images/);
    expectMismatch(() => parseImageSplit(imagesFile(2), labelsFile([1, 2]), { ...meta, count: 60000 }), 'imgs', /expected 60000 images, got 2/);
  });
  it('passes through corrupt-file errors of either file', () => {
    const cut = imagesFile(2).subarray(0, 100);
    expect(() => parseImageSplit(cut, labelsFile([1, 2]), meta)).toThrow(/imgs.*truncated/);
  });
});

describe('splitToFloat', () => {
  it('gives pixel/255 as float32, for a range of samples', () => {
    const s = syntheticSplit([0, 1, 2, 3], 2, 2);
    const f = splitToFloat(s, 1, 2);
    expect(f.length).toBe(8);
    for (let i = 0; i < 8; i++) expect(f[i]).toBe(Math.fround(s.images[4 + i] / 255));
    expect(splitToFloat(s).length).toBe(16);
    expect(() => splitToFloat(s, 3, 2)).toThrow(RangeError);
  });

  it('PIXEL_TO_FLOAT equals the division for every byte', () => {
    for (let p = 0; p < 256; p++) expect(PIXEL_TO_FLOAT[p]).toBe(Math.fround(p / 255));
  });
});

describe('stratifiedSubset', () => {
  // 10 classes with 50 samples each, interleaved irregularly.
  const labels = Array.from({ length: 500 }, (_, i) => (i * 7 + Math.floor(i / 10)) % 10);
  const split = syntheticSplit(labels);

  it('balances classes exactly when limit is a multiple of the class count', () => {
    const sub = stratifiedSubset(split, 100, 1);
    expect(sub.count).toBe(100);
    expect(classCounts(sub)).toEqual(new Array(10).fill(10));
  });

  it('differs by at most one per class otherwise, and is deterministic in the seed', () => {
    const a = stratifiedSubset(split, 37, 5);
    const counts = classCounts(a);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(counts.reduce((x, y) => x + y, 0)).toBe(37);
    const b = stratifiedSubset(split, 37, 5);
    expect(Array.from(b.images)).toEqual(Array.from(a.images));
    const c = stratifiedSubset(split, 37, 6);
    expect(Array.from(c.images)).not.toEqual(Array.from(a.images));
  });

  it('preserves the original order and copies samples intact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 499 }), fc.integer(), (limit, seed) => {
        const sub = stratifiedSubset(split, limit, seed);
        const px = 16;
        let last = -1;
        for (let i = 0; i < sub.count; i++) {
          const src = sampleIndexOf(sub.images, i * px);
          expect(src).toBeGreaterThan(last);
          expect(sub.labels[i]).toBe(split.labels[src]);
          expect(Array.from(sub.images.subarray(i * px, (i + 1) * px))).toEqual(Array.from(split.images.subarray(src * px, (src + 1) * px)));
          last = src;
        }
      }),
      { numRuns: 50 },
    );
  });

  it('gives scarce classes all they have and spreads the shortfall', () => {
    // class 0: 3 samples, class 1: 100, class 2: 100 (3 classes)
    const lab = [...new Array(3).fill(0), ...new Array(100).fill(1), ...new Array(100).fill(2)];
    const s = syntheticSplit(lab, 2, 2, 3);
    const counts = classCounts(stratifiedSubset(s, 60, 0));
    expect(counts[0]).toBe(3);
    expect(counts[1] + counts[2]).toBe(57);
    expect(Math.abs(counts[1] - counts[2])).toBeLessThanOrEqual(1);
  });

  it('returns everything when limit >= count, and validates limit', () => {
    expect(stratifiedSubset(split, 10_000).count).toBe(500);
    expect(() => stratifiedSubset(split, 0)).toThrow(/positive integer/);
    expect(() => stratifiedSubset(split, 2.5)).toThrow(/positive integer/);
  });
});

describe('stratifiedHoldout (a validation split carved from a training split)', () => {
  it('holds out exactly stratifiedSubset(size, seed); the rest is every other sample, both in order', () => {
    const labels = Array.from({ length: 503 }, (_, i) => (i * 7) % 10);
    const split = syntheticSplit(labels, 4, 4);
    const { rest, holdout } = stratifiedHoldout(split, 100, 12345);
    const subset = stratifiedSubset(split, 100, 12345);
    expect(holdout.count).toBe(100);
    expect(Buffer.from(holdout.images).equals(Buffer.from(subset.images))).toBe(true);
    expect([...holdout.labels]).toEqual([...subset.labels]);
    expect(rest.count).toBe(403);
    const px = 16;
    const held = new Set(Array.from({ length: holdout.count }, (_, i) => sampleIndexOf(holdout.images, i * px)));
    const kept = Array.from({ length: rest.count }, (_, i) => sampleIndexOf(rest.images, i * px));
    expect(kept.some((i) => held.has(i))).toBe(false);
    expect(kept).toEqual([...kept].sort((a, b) => a - b));
    expect(held.size + kept.length).toBe(503);
    expect(classCounts(holdout)).toEqual(Array(10).fill(10));
  });

  it('rejects a size that leaves nothing to train on, or a bad size/seed', () => {
    const split = syntheticSplit([0, 1, 2, 3]);
    expect(() => stratifiedHoldout(split, 4, 0)).toThrow(/size must be below the split's 4 samples/);
    expect(() => stratifiedHoldout(split, 0, 0)).toThrow(/size must be a positive integer/);
    expect(() => stratifiedHoldout(split, 2, 0.5)).toThrow(/seed must be an integer/);
  });
});
