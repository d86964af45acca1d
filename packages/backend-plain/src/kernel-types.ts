/**
 * The types the kernel interface is made of: the array type, the geometries of a convolution
 * and a pooling layer, and the Kernels interface itself. In a module of their own (types only)
 * so that kernels.ts, which implements Kernels with the functions of layers/*.ts, and those
 * layers, which take a Kernels, do not import each other.
 */
import type { ActivationFn, PoolMode } from '@lenet/model';

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

export interface ConvGeometry {
  inChannels: number;
  inH: number;
  inW: number;
  outChannels: number;
  kernel: number;
  stride: number;
  padding: number;
  outH: number;
  outW: number;
}

export interface PoolGeometry {
  mode: PoolMode;
  channels: number;
  inH: number;
  inW: number;
  kernel: number;
  stride: number;
  outH: number;
  outW: number;
}
