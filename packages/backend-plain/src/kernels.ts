/**
 * The kernel interface the layers and the engine call for their loops, and its plain-JS
 * implementation (the functions in gemm.ts and layers/*.ts).
 *
 * Everything (parameters, activations, scratch) lives in typed arrays addressed by element
 * offsets, so the same layer code runs on Float64Array (gradient checks), on Float32Array with
 * the JS kernels (tier "plain-js"), and on a Float32Array view of WebAssembly memory with the
 * SIMD kernels (tier "plain", see wasm.ts).
 */

import type { ActivationFn } from '@lenet/model';
import { gemm } from './gemm.js';
import { col2im, im2col, type ConvGeometry } from './layers/conv2d.js';
import { activationBackward, activationForward } from './layers/activation.js';
import { pool2dBackward, pool2dForward, type PoolGeometry } from './layers/pool2d.js';

export type FloatArray = Float32Array | Float64Array;

export interface Kernels<F extends FloatArray = FloatArray> {
  readonly name: 'js' | 'wasm-simd' | 'wasm-relaxed-simd';
  /**
   * General strided matrix product into a row-major C:
   *   C[cOff + i*N + j] (=|+=) sum_k A[aOff + i*sAi + k*sAk] * B[bOff + k*sBk + j*sBj]
   * for i < M, j < N, k < K. `accumulate` adds to C instead of overwriting it.
   * Transposes are expressed through the strides (e.g. A^T: sAi = 1, sAk = rows of A).
   */
  gemm(
    M: number, N: number, K: number,
    A: F, aOff: number, sAi: number, sAk: number,
    B: F, bOff: number, sBk: number, sBj: number,
    C: F, cOff: number, accumulate: boolean,
  ): void;
  /** Unfolds one sample into its patch matrix (see layers/conv2d.ts). */
  im2col(g: ConvGeometry, x: F, xOff: number, col: F, colOff: number): void;
  /** Folds a patch matrix back into one sample's input gradient (overwrites dx). */
  col2im(g: ConvGeometry, col: F, colOff: number, dx: F, dxOff: number): void;
  activationForward(fn: ActivationFn, len: number, x: F, xOff: number, y: F, yOff: number): void;
  activationBackward(fn: ActivationFn, len: number, y: F, yOff: number, dy: F, dyOff: number, dx: F, dxOff: number): void;
  poolForward(g: PoolGeometry, n: number, x: F, xOff: number, y: F, yOff: number): void;
  poolBackward(g: PoolGeometry, n: number, x: F, xOff: number, dy: F, dyOff: number, dx: F, dxOff: number): void;
  /**
   * Optional: one sample's convolution forward without a patch matrix, equal to im2col +
   * fillRows + gemm (bit for bit in the SIMD tier). Only for geometries directConvApplies()
   * accepts; `scratch` holds colSize(g) floats (the zero-padded input).
   */
  convForward?(g: ConvGeometry, x: F, xOff: number, w: F, wOff: number, b: F, bOff: number, scratch: F, scratchOff: number, y: F, yOff: number): void;
  /**
   * Optional: one sample's filter gradient without a patch matrix, dw += dy·colᵀ with col
   * implicit, equal to im2col + gemm (bit for bit in the SIMD tier). Only for geometries
   * directFilterApplies() accepts; `scratch` holds colSize(g) floats (the zero-padded input).
   */
  convFilterGrad?(g: ConvGeometry, x: F, xOff: number, dy: F, dyOff: number, dw: F, dwOff: number, scratch: F, scratchOff: number): void;
  /** out[outOff + i] += sum_j a[aOff + i*N + j] for i < M (bias gradients). */
  sumRows(M: number, N: number, a: F, aOff: number, out: F, outOff: number): void;
  /** y[yOff + i*N + j] = b[bOff + i] for i < M, j < N (bias broadcast). */
  fillRows(M: number, N: number, b: F, bOff: number, y: F, yOff: number): void;
}

/** JS sumRows: each row summed in float64, added to out once. */
function sumRows<F extends FloatArray>(M: number, N: number, a: F, aOff: number, out: F, outOff: number): void {
  for (let i = 0; i < M; i++) {
    let s = 0;
    const r = aOff + i * N;
    for (let j = 0; j < N; j++) s += a[r + j];
    out[outOff + i] += s;
  }
}

function fillRows<F extends FloatArray>(M: number, N: number, b: F, bOff: number, y: F, yOff: number): void {
  for (let i = 0; i < M; i++) y.fill(b[bOff + i], yOff + i * N, yOff + (i + 1) * N);
}

/** The plain-JS kernel set (works on Float32Array and Float64Array). */
export const jsKernels: Kernels<FloatArray> = {
  name: 'js',
  gemm,
  im2col,
  col2im,
  activationForward,
  activationBackward,
  poolForward: pool2dForward,
  poolBackward: pool2dBackward,
  sumRows,
  fillRows,
};

