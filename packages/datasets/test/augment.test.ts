import { describe, expect, it } from 'vitest';
import { BatchAugmenter } from '../src/augment.js';

const R = 6;
const C = 5;
/** n images of R x C whose pixel (i, r, c) = i*100 + r*10 + c + 1 (never 0, so fill is visible). */
function images(n: number): Float32Array {
  const x = new Float32Array(n * R * C);
  for (let i = 0; i < n; i++) for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) x[i * R * C + r * C + c] = i * 100 + r * 10 + c + 1;
  return x;
}

/** Recovers (dy, dx, flip) of image i from its augmented pixels by trying every combination. */
function transformOf(orig: Float32Array, out: Float32Array, i: number, maxShift: number): string {
  const px = R * C;
  const hits: string[] = [];
  for (let dy = -maxShift; dy <= maxShift; dy++)
    for (let dx = -maxShift; dx <= maxShift; dx++)
      for (const flip of [false, true]) {
        let ok = true;
        for (let r = 0; r < R && ok; r++)
          for (let c = 0; c < C && ok; c++) {
            const sr = r - dy;
            const sc = (flip ? C - 1 - c : c) - dx;
            const want = sr >= 0 && sr < R && sc >= 0 && sc < C ? orig[i * px + sr * C + sc]! : 0;
            ok = out[i * px + r * C + c] === want;
          }
        if (ok) hits.push(`${dy},${dx},${flip ? 'f' : '-'}`);
      }
  expect(hits).toHaveLength(1);
  return hits[0]!;
}

describe('BatchAugmenter', () => {
  it('applies a shift within ±maxShift (zero fill) and an optional flip to each image', () => {
    const aug = new BatchAugmenter({ maxShift: 2, hflip: true }, 3, R, C);
    const orig = images(40);
    const x = orig.slice();
    aug.apply(x, 40, 0);
    const kinds = new Set<string>();
    for (let i = 0; i < 40; i++) kinds.add(transformOf(orig, x, i, 2));
    // 40 draws over 50 combinations: many distinct ones, flips both ways
    expect(kinds.size).toBeGreaterThan(15);
    expect([...kinds].some((k) => k.endsWith('f'))).toBe(true);
    expect([...kinds].some((k) => k.endsWith('-'))).toBe(true);
  });

  it('is deterministic in (seed, epoch, batch order) and differs across epochs and seeds', () => {
    const run = (seed: number, epoch: number) => {
      const aug = new BatchAugmenter({ maxShift: 1, hflip: true }, seed, R, C);
      const a = images(8);
      const b = images(8);
      aug.apply(a, 8, epoch);
      aug.apply(b, 8, epoch); // the second batch continues the epoch's stream
      return [...a, ...b];
    };
    expect(run(5, 2)).toEqual(run(5, 2));
    expect(run(5, 2)).not.toEqual(run(5, 3));
    expect(run(5, 2)).not.toEqual(run(6, 2));
    // going back to an epoch restarts its stream
    const aug = new BatchAugmenter({ maxShift: 1, hflip: true }, 5, R, C);
    const first = images(8);
    aug.apply(first, 8, 2);
    aug.apply(images(8), 8, 3);
    const again = images(8);
    aug.apply(again, 8, 2);
    expect([...again]).toEqual([...first]);
  });

  it('touches only the first n images; maxShift 0 without flips is the identity', () => {
    const aug = new BatchAugmenter({ maxShift: 2, hflip: false }, 1, R, C);
    const x = images(4);
    aug.apply(x, 2, 0);
    expect([...x.subarray(2 * R * C)]).toEqual([...images(4).subarray(2 * R * C)]);
    const id = new BatchAugmenter({ maxShift: 0, hflip: false }, 1, R, C);
    const y = images(3);
    id.apply(y, 3, 4);
    expect([...y]).toEqual([...images(3)]);
  });

  it('rejects bad options and arguments with the name and the expected value', () => {
    expect(() => new BatchAugmenter({ maxShift: -1, hflip: false }, 0)).toThrow(/maxShift must be an integer in 0\.\.27/);
    expect(() => new BatchAugmenter({ maxShift: 1.5, hflip: false }, 0)).toThrow(/maxShift/);
    expect(() => new BatchAugmenter({ maxShift: 1, hflip: 'yes' as unknown as boolean }, 0)).toThrow(/hflip must be a boolean/);
    expect(() => new BatchAugmenter({ maxShift: 1, hflip: false }, 1.5)).toThrow(/seed must be a 32-bit integer/);
    const aug = new BatchAugmenter({ maxShift: 1, hflip: false }, 0, R, C);
    expect(() => aug.apply(new Float32Array(10), 1, 0)).toThrow(/fewer than n=1 images of 6x5/);
    expect(() => aug.apply(images(1), 1, -1)).toThrow(/epoch must be a non-negative integer/);
  });
});
