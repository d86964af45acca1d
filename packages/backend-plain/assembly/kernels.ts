// WebAssembly SIMD kernels for the "plain" tier, compiled by AssemblyScript (see package.json
// "build:wasm"). Pointers are byte addresses into the (imported) memory; strides are in
// float32 elements. Semantics equal the JS gemm in src/kernels.ts:
//   C[c + (i*N + j)] (=|+=) sum_k A[a + i*sAi + k*sAk] * B[b + k*sBk + j*sBj]
// The sum over k runs in float32; the JS tier sums in float64, so the tiers agree to float32
// rounding, not bit for bit.
//
// Two modules are built from this file (package.json "build:wasm"): the SIMD128 tier, where
// every multiply-accumulate of the GEMM/conv tiles is f32x4.mul + f32x4.add (two roundings), and
// the relaxed-SIMD tier (--enable relaxed-simd), where it is one f32x4.relaxed_madd: a fused
// multiply-add (one rounding) on CPUs with FMA, which the engine picks once per process, so
// results are deterministic within a tier on one machine. The switch is madd() in simd.ts.
// Activations, pooling and bias sums use no madd: they are the same code in both tiers.
//
// One section per file, split along the rulers the single file had (asc compiles this entry file;
// its exports are the module's): simd.ts (madd and helpers), gemm.ts, im2col.ts (patch matrices),
// conv-direct.ts (inference convolution), conv-filter-grad.ts (training filter gradient and
// col2im), activations.ts, pooling.ts, bias.ts; the machine-peak probe and the tier id are here.
export { gemm } from './gemm';
export { im2col } from './im2col';
export { convForward } from './conv-direct';
export { convFilterGrad, col2im } from './conv-filter-grad';
export { activationForward, activationBackward } from './activations';
export { poolForward, poolBackward } from './pooling';
export { sumRows, fillRows } from './bias';
import { hsum, madd } from './simd';

/**
 * Machine-peak probe (not used by training): `iters` rounds of acc = acc * m + c on 12
 * independent f32x4 accumulators held in registers — enough independent chains to keep both
 * SIMD pipes busy through the mul and add latencies, few enough (12 + 2 constants) to fit the
 * 16 xmm registers engines use on x64. WebAssembly SIMD has no FMA, so each lane of each round
 * is 2 flops: 96 flops per round. Writes the accumulators' sum to `out` so the work stays.
 */
export function simdPeak(iters: i32, out: usize): void {
  const m = f32x4.splat(0.9999);
  const c = f32x4.splat(0.0001);
  let a0 = f32x4.splat(0.1), a1 = f32x4.splat(0.2), a2 = f32x4.splat(0.3), a3 = f32x4.splat(0.4);
  let a4 = f32x4.splat(0.5), a5 = f32x4.splat(0.6), a6 = f32x4.splat(0.7), a7 = f32x4.splat(0.8);
  let a8 = f32x4.splat(0.9), a9 = f32x4.splat(1.0), a10 = f32x4.splat(1.1), a11 = f32x4.splat(1.2);
  for (let i = 0; i < iters; i++) {
    a0 = madd(a0, m, c);
    a1 = madd(a1, m, c);
    a2 = madd(a2, m, c);
    a3 = madd(a3, m, c);
    a4 = madd(a4, m, c);
    a5 = madd(a5, m, c);
    a6 = madd(a6, m, c);
    a7 = madd(a7, m, c);
    a8 = madd(a8, m, c);
    a9 = madd(a9, m, c);
    a10 = madd(a10, m, c);
    a11 = madd(a11, m, c);
  }
  const s = f32x4.add(f32x4.add(f32x4.add(a0, a1), f32x4.add(a2, a3)), f32x4.add(f32x4.add(f32x4.add(a4, a5), f32x4.add(a6, a7)), f32x4.add(f32x4.add(a8, a9), f32x4.add(a10, a11))));
  store<f32>(out, hsum(s));
}

/** Which tier this module was built as: 1 = relaxed SIMD (madd fused), 0 = SIMD128 (mul + add). */
export function kernelTier(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
