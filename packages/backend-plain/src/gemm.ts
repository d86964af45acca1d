/**
 * Plain-JS GEMM, the hot loop of convolution and dense layers (see Kernels.gemm for the
 * contract). Generic over Float32Array/Float64Array so the float64 gradient checks run it.
 */
import type { FloatArray } from './kernel-types.js';

/**
 * Register-blocked GEMM: 4x4 tiles of C held in 16 locals while k runs, so each loaded A/B
 * value is used 4 times. The sum over k runs in the same order for every element whether it
 * sits in a full tile or in an edge, so results do not depend on M/N alignment.
 * Accumulation happens in doubles (JS numbers) and is rounded once on store.
 */
export function gemm<F extends FloatArray>(
  M: number, N: number, K: number,
  A: F, aOff: number, sAi: number, sAk: number,
  B: F, bOff: number, sBk: number, sBj: number,
  C: F, cOff: number, accumulate: boolean,
): void {
  const M4 = M - (M & 3);
  const N4 = N - (N & 3);
  const sAi2 = 2 * sAi, sAi3 = 3 * sAi;
  const sBj2 = 2 * sBj, sBj3 = 3 * sBj;
  let i = 0;
  for (; i < M4; i += 4) {
    const rowA = aOff + i * sAi;
    const rowC = cOff + i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
      let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
      let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      let pa = rowA;
      let pb = bOff + j * sBj;
      for (let k = 0; k < K; k++) {
        const a0 = A[pa], a1 = A[pa + sAi], a2 = A[pa + sAi2], a3 = A[pa + sAi3];
        const b0 = B[pb], b1 = B[pb + sBj], b2 = B[pb + sBj2], b3 = B[pb + sBj3];
        c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
        c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
        c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
        c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
        pa += sAk;
        pb += sBk;
      }
      const p0 = rowC + j, p1 = p0 + N, p2 = p1 + N, p3 = p2 + N;
      if (accumulate) {
        C[p0] += c00; C[p0 + 1] += c01; C[p0 + 2] += c02; C[p0 + 3] += c03;
        C[p1] += c10; C[p1 + 1] += c11; C[p1 + 2] += c12; C[p1 + 3] += c13;
        C[p2] += c20; C[p2 + 1] += c21; C[p2 + 2] += c22; C[p2 + 3] += c23;
        C[p3] += c30; C[p3 + 1] += c31; C[p3 + 2] += c32; C[p3 + 3] += c33;
      } else {
        C[p0] = c00; C[p0 + 1] = c01; C[p0 + 2] = c02; C[p0 + 3] = c03;
        C[p1] = c10; C[p1 + 1] = c11; C[p1 + 2] = c12; C[p1 + 3] = c13;
        C[p2] = c20; C[p2 + 1] = c21; C[p2 + 2] = c22; C[p2 + 3] = c23;
        C[p3] = c30; C[p3 + 1] = c31; C[p3 + 2] = c32; C[p3 + 3] = c33;
      }
    }
    // Column edge: 4x1 tiles.
    for (; j < N; j++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      let pa = rowA;
      let pb = bOff + j * sBj;
      for (let k = 0; k < K; k++) {
        const b = B[pb];
        c0 += A[pa] * b; c1 += A[pa + sAi] * b; c2 += A[pa + sAi2] * b; c3 += A[pa + sAi3] * b;
        pa += sAk;
        pb += sBk;
      }
      const p0 = rowC + j;
      if (accumulate) {
        C[p0] += c0; C[p0 + N] += c1; C[p0 + 2 * N] += c2; C[p0 + 3 * N] += c3;
      } else {
        C[p0] = c0; C[p0 + N] = c1; C[p0 + 2 * N] = c2; C[p0 + 3 * N] = c3;
      }
    }
  }
  // Row edge: 1x4 tiles, then single elements.
  for (; i < M; i++) {
    const rowA = aOff + i * sAi;
    const rowC = cOff + i * N;
    let j = 0;
    for (; j < N4; j += 4) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      let pa = rowA;
      let pb = bOff + j * sBj;
      for (let k = 0; k < K; k++) {
        const a = A[pa];
        c0 += a * B[pb]; c1 += a * B[pb + sBj]; c2 += a * B[pb + sBj2]; c3 += a * B[pb + sBj3];
        pa += sAk;
        pb += sBk;
      }
      const p0 = rowC + j;
      if (accumulate) {
        C[p0] += c0; C[p0 + 1] += c1; C[p0 + 2] += c2; C[p0 + 3] += c3;
      } else {
        C[p0] = c0; C[p0 + 1] = c1; C[p0 + 2] = c2; C[p0 + 3] = c3;
      }
    }
    for (; j < N; j++) {
      let c = 0;
      let pa = rowA;
      let pb = bOff + j * sBj;
      for (let k = 0; k < K; k++) {
        c += A[pa] * B[pb];
        pa += sAk;
        pb += sBk;
      }
      if (accumulate) C[rowC + j] += c;
      else C[rowC + j] = c;
    }
  }
}
