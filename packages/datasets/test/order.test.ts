import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { epochOrder } from '../src/index.js';

function isPermutation(order: Uint32Array, count: number): boolean {
  if (order.length !== count) return false;
  const seen = new Uint8Array(count);
  for (const v of order) {
    if (v >= count || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

/**
 * The README's rule, re-implemented from scratch with 64-bit BigInt xoroshiro128+ (no
 * pure-rand), so a port in another language can follow the same text.
 */
function referenceOrder(count: number, seed: number, epoch: number): number[] {
  const M = (1n << 64n) - 1n;
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (64n - k))) & M;
  const u32 = BigInt(seed >>> 0);
  let s0 = (0xffffffffn << 32n) | (~u32 & 0xffffffffn);
  let s1 = u32 << 32n;
  const step = (): void => {
    const t = s1 ^ s0;
    s0 = rotl(s0, 24n) ^ t ^ ((t << 16n) & M);
    s1 = rotl(t, 37n);
  };
  const next = (): number => {
    const out = Number((s0 + s1) & 0xffffffffn);
    step();
    return out;
  };
  const JUMP = [0xdf900294d8f554a5n, 0x170865df4b3201fcn];
  for (let e = 0; e < epoch; e++) {
    let t0 = 0n;
    let t1 = 0n;
    for (const word of JUMP) {
      for (let b = 0n; b < 64n; b++) {
        if ((word >> b) & 1n) {
          t0 ^= s0;
          t1 ^= s1;
        }
        step();
      }
    }
    s0 = t0;
    s1 = t1;
  }
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const r = i + 1;
    const limit = r > 2 ? Math.floor(2 ** 32 / r) * r : 2 ** 32;
    let u = (next() + 2 ** 31) % 2 ** 32;
    while (u >= limit) u = (next() + 2 ** 31) % 2 ** 32;
    const j = u % r;
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

describe('epochOrder', () => {
  it('is a permutation of 0..count-1 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer(), fc.integer({ min: 0, max: 20 }), (count, seed, epoch) => {
        expect(isPermutation(epochOrder(count, seed, epoch), count)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('same seed and epoch give the same order; another epoch or seed a different one', () => {
    const a = epochOrder(60000, 42, 3);
    expect(Array.from(epochOrder(60000, 42, 3))).toEqual(Array.from(a));
    expect(Array.from(epochOrder(60000, 42, 4))).not.toEqual(Array.from(a));
    expect(Array.from(epochOrder(60000, 43, 3))).not.toEqual(Array.from(a));
  });

  it('different epochs are far from each other (not shifted copies)', () => {
    const a = epochOrder(1000, 7, 0);
    const b = epochOrder(1000, 7, 1);
    let same = 0;
    for (let i = 0; i < 1000; i++) if (a[i] === b[i]) same++;
    expect(same).toBeLessThan(10); // ~1 expected for independent permutations
  });

  it('follows the documented rule exactly (independent BigInt xoroshiro128+)', () => {
    for (const [count, seed, epoch] of [
      [10, 0, 0],
      [10, 42, 0],
      [257, 42, 1],
      [1000, -5, 2],
      [3, 0xffffffff, 5],
      [500, 123456789, 0],
    ]) {
      expect(Array.from(epochOrder(count, seed, epoch)), `count ${count} seed ${seed} epoch ${epoch}`).toEqual(
        referenceOrder(count, seed, epoch),
      );
    }
  });

  it('treats seeds modulo 2^32', () => {
    expect(Array.from(epochOrder(50, -1, 1))).toEqual(Array.from(epochOrder(50, 0xffffffff, 1)));
  });

  it('rejects bad arguments with a RangeError', () => {
    expect(() => epochOrder(-1, 0, 0)).toThrow(/count/);
    expect(() => epochOrder(1.5, 0, 0)).toThrow(/count/);
    expect(() => epochOrder(10, 0.5, 0)).toThrow(/seed/);
    expect(() => epochOrder(10, 2 ** 33, 0)).toThrow(/seed/);
    expect(() => epochOrder(10, 0, -1)).toThrow(/epoch/);
  });
});
