/**
 * Seeded per-epoch sample order. Browser-safe.
 *
 * The rule (also in README.md, so other implementations can reproduce it bit for bit):
 * 1. rng = pure-rand 8 `xoroshiro128plus(seed)` — standard xoroshiro128+ (a=24, b=16, c=37) with
 *    64-bit state s0 = 0xFFFFFFFF_00000000 | (~seed & 0xFFFFFFFF), s1 = (seed & 0xFFFFFFFF) << 32;
 *    each draw outputs the low 32 bits of s0 + s1.
 * 2. Call `rng.jump()` `epoch` times (the standard xoroshiro128+ jump, 2^64 steps each), so each
 *    epoch reads its own non-overlapping stream.
 * 3. Start from the identity 0..count-1; for i = count-1 down to 1: j = uniformInt(rng, 0, i),
 *    swap order[i] and order[j]. uniformInt (pure-rand 8) with range r = i+1 draws
 *    u = (output + 2^31) mod 2^32, rejects u >= floor(2^32 / r) * r (no rejection when r <= 2),
 *    and returns u mod r.
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

function checkArgs(count: number, seed: number, epoch: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) {
    throw new RangeError(`epochOrder: count must be an integer in 0..2^32-1, got ${count}`);
  }
  if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
    throw new RangeError(`epochOrder: seed must be a 32-bit integer (-2^31..2^32-1), got ${seed}`);
  }
  if (!Number.isSafeInteger(epoch) || epoch < 0) {
    throw new RangeError(`epochOrder: epoch must be a non-negative integer, got ${epoch}`);
  }
}

/** Writes the permutation for (seed, epoch) into `out` (its length is the sample count). */
export function epochOrderInto(out: Uint32Array, seed: number, epoch: number): Uint32Array {
  const count = out.length;
  checkArgs(count, seed, epoch);
  for (let i = 0; i < count; i++) out[i] = i;
  const rng = xoroshiro128plus(seed);
  for (let e = 0; e < epoch; e++) rng.jump();
  for (let i = count - 1; i > 0; i--) {
    const j = uniformInt(rng, 0, i);
    const t = out[i];
    out[i] = out[j];
    out[j] = t;
  }
  return out;
}

/**
 * The order in which epoch `epoch` visits samples 0..count-1: a seeded Fisher-Yates permutation,
 * identical on every platform for the same (count, seed, epoch). Seeds are 32-bit integers
 * (seed and seed + 2^32 give the same order).
 */
export function epochOrder(count: number, seed: number, epoch: number): Uint32Array {
  checkArgs(count, seed, epoch);
  return epochOrderInto(new Uint32Array(count), seed, epoch);
}
