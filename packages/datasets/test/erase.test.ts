/**
 * Random erasing in BatchAugmenter: only when enabled (p > 0) does it draw anything, so every
 * existing recipe's augmented bytes are unchanged (checked against the pre-erasing implementation
 * on real Fashion-MNIST with fashion-plus's options); the erased rectangle respects the area and
 * aspect bounds; same seed, same bytes.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchAugmenter, type EraseOptions } from '../src/augment.js';
import { Batcher } from '../src/batcher.js';
import { loadDataset } from '../src/node.js';
import { BatchAugmenter as BatchAugmenterBeforeErase } from './fixtures/augment-before-erase.js';

const FASHION_DIR = '/usr/share/datasets/fashion-mnist';
const ERASE: EraseOptions = { p: 0.5, areaMin: 0.02, areaMax: 0.25, aspectMin: 0.3, aspectMax: 3.3 };
const R = 28;
const C = 28;

/** n images of R x C with no zero pixel, so an erased (0) pixel is visible. */
function images(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * R * C }, (_, i) => 1 + ((i * 2654435761 + seed * 40503) % 251) / 251);
}

/** The bounding box of the zero pixels of image i, or null (and checks they fill it exactly). */
function erasedBox(x: Float32Array, i: number): { h: number; w: number } | null {
  let top = R, bottom = -1, left = C, right = -1, zeros = 0;
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) {
    if (x[i * R * C + r * C + c] === 0) {
      zeros++;
      top = Math.min(top, r); bottom = Math.max(bottom, r); left = Math.min(left, c); right = Math.max(right, c);
    }
  }
  if (zeros === 0) return null;
  const h = bottom - top + 1;
  const w = right - left + 1;
  expect(zeros, `image ${i}: the zeros form one filled rectangle`).toBe(h * w);
  return { h, w };
}

describe('random erasing', () => {
  it('leaves fashion-plus\'s augmented batches byte-identical to the implementation before erasing (real Fashion-MNIST)', async (ctx) => {
    if (!existsSync(FASHION_DIR)) ctx.skip(`Fashion-MNIST is not installed at ${FASHION_DIR}`);
    const { train } = await loadDataset('fashion-mnist', { dataDir: FASHION_DIR, repoRoot: null, env: {}, download: false });
    const batcher = new Batcher(train, { batchSize: 32, seed: 0, shuffle: true, lastBatch: 'partial' });
    for (const options of [{ maxShift: 1, hflip: true }, { maxShift: 1, hflip: false }, { maxShift: 1, hflip: true, erase: null }, { maxShift: 1, hflip: true, erase: { ...ERASE, p: 0 } }]) {
      const now = new BatchAugmenter(options, 7);
      const before = new BatchAugmenterBeforeErase({ maxShift: options.maxShift, hflip: options.hflip }, 7);
      for (const epoch of [0, 1]) {
        const batches = batcher.epoch(epoch);
        for (let step = 0; step < 5; step++) {
          const { x, n } = batches.next().value!;
          const a = x.slice(0, n * R * C);
          const b = a.slice();
          now.apply(a, n, epoch);
          before.apply(b, n, epoch);
          expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer)), `${JSON.stringify(options)} epoch ${epoch} step ${step + 1}`).toBe(true);
        }
      }
    }
  });

  it('erases about p of the images, each one rectangle within the area and aspect bounds', () => {
    const n = 2000;
    const x = images(n, 1);
    new BatchAugmenter({ maxShift: 0, hflip: false, erase: ERASE }, 3).apply(x, n, 0);
    let erased = 0;
    for (let i = 0; i < n; i++) {
      const box = erasedBox(x, i);
      if (!box) continue;
      erased++;
      // h and w are rounded from sqrt(area·aspect) and sqrt(area/aspect): allow the rounding.
      const area = box.h * box.w;
      const lo = ERASE.areaMin * R * C;
      const hi = ERASE.areaMax * R * C;
      expect(area, `image ${i}: area`).toBeGreaterThanOrEqual(Math.floor((Math.sqrt(lo) - 0.5) ** 2));
      expect(area, `image ${i}: area`).toBeLessThanOrEqual(Math.ceil((Math.sqrt(hi) + 0.5) ** 2 * 1.2));
      const ratio = box.h / box.w;
      expect(ratio, `image ${i}: aspect`).toBeGreaterThan(ERASE.aspectMin * 0.5);
      expect(ratio, `image ${i}: aspect`).toBeLessThan(ERASE.aspectMax * 2);
    }
    // Binomial(2000, 0.5): 1000 ± 22 (sd); a few images miss every attempt and stay whole.
    expect(erased).toBeGreaterThan(900);
    expect(erased).toBeLessThan(1100);
  });

  it('p = 1 with a fixed area and aspect 1 erases a square of that size in every image', () => {
    const n = 50;
    const x = images(n, 2);
    new BatchAugmenter({ maxShift: 0, hflip: false, erase: { p: 1, areaMin: 0.25, areaMax: 0.25, aspectMin: 1, aspectMax: 1 } }, 4).apply(x, n, 0);
    for (let i = 0; i < n; i++) expect(erasedBox(x, i)).toEqual({ h: 14, w: 14 });
  });

  it('p = 0 draws nothing: the bytes equal those without erasing; same seed gives the same bytes, another seed others', () => {
    const n = 64;
    const base = images(n, 3);
    const run = (erase: EraseOptions | null, seed: number) => {
      const x = base.slice();
      const aug = new BatchAugmenter({ maxShift: 2, hflip: true, erase }, seed);
      aug.apply(x.subarray(0, 32 * R * C), 32, 2);
      aug.apply(x.subarray(32 * R * C), 32, 2);
      return Buffer.from(x.buffer);
    };
    expect(run({ ...ERASE, p: 0 }, 5).equals(run(null, 5))).toBe(true);
    expect(run(ERASE, 5).equals(run(ERASE, 5))).toBe(true);
    expect(run(ERASE, 5).equals(run(null, 5))).toBe(false);
    expect(run(ERASE, 5).equals(run(ERASE, 6))).toBe(false);
  });

  it('rejects bad erase options by field', () => {
    const bad: [Partial<EraseOptions>, RegExp][] = [
      [{ p: 1.5 }, /erase\.p must be a number in \[0, 1\]/],
      [{ areaMin: 0 }, /areaMin\/areaMax/],
      [{ areaMin: 0.3, areaMax: 0.2 }, /areaMin\/areaMax/],
      [{ aspectMin: -1 }, /aspectMin\/aspectMax/],
      [{ aspectMax: Number.NaN }, /aspectMin\/aspectMax/],
    ];
    for (const [change, message] of bad) {
      expect(() => new BatchAugmenter({ maxShift: 0, hflip: false, erase: { ...ERASE, ...change } }, 0)).toThrow(message);
    }
  });
});
