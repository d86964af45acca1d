/**
 * Fully connected layer, weight [out, in] (PyTorch layout), for a block of n samples:
 *   y[s, o]  = b[o] + sum_i x[s, i] W[o, i]     (GEMM M=n, N=out, K=in, B = W^T)
 *   dW[o, i] += sum_s dy[s, o] x[s, i]          (GEMM M=out, N=in, K=n, A = dy^T)
 *   db[o]    += sum_s dy[s, o]
 *   dx[s, i]  = sum_o dy[s, o] W[o, i]          (GEMM M=n, N=in, K=out)
 */
import type { FloatArray, Kernels } from '../kernel-types.js';

export function denseForward<F extends FloatArray>(
  kern: Kernels<F>, n: number, inF: number, outF: number,
  x: F, xOff: number, w: F, wOff: number, b: F, bOff: number, y: F, yOff: number,
): void {
  for (let s = 0; s < n; s++) {
    const r = yOff + s * outF;
    for (let o = 0; o < outF; o++) y[r + o] = b[bOff + o];
  }
  kern.gemm(n, outF, inF, x, xOff, inF, 1, w, wOff, 1, inF, y, yOff, true);
}

/** Accumulates dW, db; overwrites dx (at dxOff) unless dx is null. */
export function denseBackward<F extends FloatArray>(
  kern: Kernels<F>, n: number, inF: number, outF: number,
  x: F, xOff: number, w: F, wOff: number, dy: F, dyOff: number,
  dw: F, dwOff: number, db: F, dbOff: number, dx: F | null, dxOff: number,
): void {
  kern.gemm(outF, inF, n, dy, dyOff, 1, outF, x, xOff, inF, 1, dw, dwOff, true);
  for (let o = 0; o < outF; o++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += dy[dyOff + i * outF + o];
    db[dbOff + o] += s;
  }
  if (dx !== null) kern.gemm(n, inF, outF, dy, dyOff, outF, 1, w, wOff, inF, 1, dx, dxOff, false);
}
