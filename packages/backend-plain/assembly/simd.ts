// The multiply-add of both tiers (madd: the one switch between SIMD128 and relaxed SIMD) and
// small store/sum helpers the kernel files share. See kernels.ts for the two builds.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  // ASC_FEATURE_RELAXED_SIMD is a compile-time constant: the untaken branch is not emitted.
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline export function smadd(a: f32, b: f32, c: f32): f32 {
  // The scalar edges of the tiles round like their vector lanes, so a sum's bits do not depend on
  // whether it landed in a tile or an edge (wasm has no scalar FMA: one lane of relaxed_madd).
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}

// @ts-ignore: decorator
@inline export function st(c: usize, v: f32, acc: i32): void {
  if (acc) store<f32>(c, load<f32>(c) + v);
  else store<f32>(c, v);
}

// @ts-ignore: decorator
@inline export function stv(c: usize, v: v128, acc: i32): void {
  if (acc) v128.store(c, f32x4.add(v128.load(c), v));
  else v128.store(c, v);
}

// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
