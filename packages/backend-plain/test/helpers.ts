/** Shared helpers for the tests: seeded numbers and finite-difference gradient checks. */
import { seededUniform } from '@lenet/core';

export function randomArray(seed: number, n: number, lo = -1, hi = 1): Float64Array {
  const u = seededUniform(seed);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = lo + (hi - lo) * u();
  return a;
}

export function randomF32(seed: number, n: number, lo = -1, hi = 1): Float32Array {
  return Float32Array.from(randomArray(seed, n, lo, hi));
}

/**
 * Compares an analytic gradient with central finite differences of `loss` with respect to the
 * entries `indices` of `param` (perturbed in place and restored). Returns the largest error
 * ratio |a - n| / (atol + rtol * max(|a|, |n|)) over the checked entries: <= 1 passes.
 * atol covers the rounding noise of the difference quotient (~1e-16 * |loss| / eps).
 */
export function fdCheck(
  loss: () => number,
  param: Float64Array,
  analytic: ArrayLike<number>,
  indices: Iterable<number>,
  eps = 1e-6,
  rtol = 1e-6,
  atol = 1e-8,
): { maxRel: number; worst: string; checked: number } {
  let maxRel = 0;
  let worst = '';
  let checked = 0;
  for (const i of indices) {
    const old = param[i];
    param[i] = old + eps;
    const lp = loss();
    param[i] = old - eps;
    const lm = loss();
    param[i] = old;
    const num = (lp - lm) / (2 * eps);
    const a = analytic[i];
    const rel = Math.abs(a - num) / (atol + rtol * Math.max(Math.abs(a), Math.abs(num)));
    checked++;
    if (rel > maxRel) {
      maxRel = rel;
      worst = `index ${i}: analytic ${a}, numeric ${num}`;
    }
  }
  return { maxRel, worst, checked };
}

/** Every index below n, or `count` seeded indices when n is larger. */
export function sampleIndices(n: number, count: number, seed: number): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const u = seededUniform(seed);
  const out = new Set<number>();
  while (out.size < count) out.add(Math.floor(u() * n));
  return [...out];
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
