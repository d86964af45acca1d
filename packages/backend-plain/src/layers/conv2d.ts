/**
 * 2-D convolution (cross-correlation, as in PyTorch), NCHW, weight [out, in, k, k], symmetric
 * zero padding, any stride. Forward and backward via im2col + GEMM:
 *   col[q, p]  = x[c, oy*s - pad + ky, ox*s - pad + kx]   (q = (c*k + ky)*k + kx, p = oy*ow + ox)
 *   y[co, p]   = b[co] + sum_q W[co, q] col[q, p]          (GEMM M=out, N=oh*ow, K=in*k*k)
 *   dW[co, q] += sum_p dy[co, p] col[q, p]                 (GEMM with B transposed)
 *   db[co]    += sum_p dy[co, p]
 *   dcol[q, p] = sum_co W[co, q] dy[co, p]                 (GEMM with A transposed)
 *   dx         = col2im(dcol)                              (scatter-add of the patches)
 */
import type { ConvGeometry, FloatArray, Kernels } from '../kernel-types.js';

export type { ConvGeometry } from '../kernel-types.js';

export function convGeometry(
  inChannels: number, inH: number, inW: number,
  outChannels: number, kernel: number, stride: number, padding: number,
): ConvGeometry {
  const outH = Math.floor((inH + 2 * padding - kernel) / stride) + 1;
  const outW = Math.floor((inW + 2 * padding - kernel) / stride) + 1;
  return { inChannels, inH, inW, outChannels, kernel, stride, padding, outH, outW };
}

/** Rows of the patch matrix: in*k*k. */
export function colRows(g: ConvGeometry): number {
  return g.inChannels * g.kernel * g.kernel;
}

/** Elements of one sample's patch matrix: in*k*k * oh*ow. */
export function colSize(g: ConvGeometry): number {
  return colRows(g) * g.outH * g.outW;
}

/**
 * Range [lo, hi) of output coordinates whose input coordinate o*s - pad + t is inside [0, size):
 *   o*s - pad + t >= 0  <=>  o >= (pad - t) / s ;  o*s - pad + t <= size - 1  <=>  o <= (size - 1 + pad - t) / s
 * Two scalar functions rather than one returning a pair: no allocation in the step loop.
 */
function rangeLo(t: number, stride: number, pad: number): number {
  return Math.max(0, Math.ceil((pad - t) / stride));
}
function rangeHi(t: number, size: number, out: number, stride: number, pad: number): number {
  return Math.max(rangeLo(t, stride, pad), Math.min(out, Math.floor((size - 1 + pad - t) / stride) + 1));
}

/** Unfolds one sample x[c, h, w] (at xOff) into col[q, p] (at colOff). */
export function im2col<F extends FloatArray>(g: ConvGeometry, x: F, xOff: number, col: F, colOff: number): void {
  const { inChannels, inH, inW, kernel: k, stride: s, padding: pad, outH, outW } = g;
  const P = outH * outW;
  let q = colOff;
  for (let c = 0; c < inChannels; c++) {
    const xc = xOff + c * inH * inW;
    for (let ky = 0; ky < k; ky++) {
      const oyLo = rangeLo(ky, s, pad), oyHi = rangeHi(ky, inH, outH, s, pad);
      for (let kx = 0; kx < k; kx++) {
        const oxLo = rangeLo(kx, s, pad), oxHi = rangeHi(kx, inW, outW, s, pad);
        let p = q;
        for (let oy = 0; oy < outH; oy++) {
          if (oy < oyLo || oy >= oyHi) {
            for (let ox = 0; ox < outW; ox++) col[p + ox] = 0;
          } else {
            const row = xc + (oy * s - pad + ky) * inW - pad + kx;
            for (let ox = 0; ox < oxLo; ox++) col[p + ox] = 0;
            if (s === 1) {
              for (let ox = oxLo; ox < oxHi; ox++) col[p + ox] = x[row + ox];
            } else {
              for (let ox = oxLo; ox < oxHi; ox++) col[p + ox] = x[row + ox * s];
            }
            for (let ox = oxHi; ox < outW; ox++) col[p + ox] = 0;
          }
          p += outW;
        }
        q += P;
      }
    }
  }
}

/** Folds col[q, p] back: dx[c, h, w] = sum of the patch entries that read it. Overwrites dx. */
export function col2im<F extends FloatArray>(g: ConvGeometry, col: F, colOff: number, dx: F, dxOff: number): void {
  const { inChannels, inH, inW, kernel: k, stride: s, padding: pad, outH, outW } = g;
  dx.fill(0, dxOff, dxOff + inChannels * inH * inW);
  const P = outH * outW;
  let q = colOff;
  for (let c = 0; c < inChannels; c++) {
    const xc = dxOff + c * inH * inW;
    for (let ky = 0; ky < k; ky++) {
      const oyLo = rangeLo(ky, s, pad), oyHi = rangeHi(ky, inH, outH, s, pad);
      for (let kx = 0; kx < k; kx++) {
        const oxLo = rangeLo(kx, s, pad), oxHi = rangeHi(kx, inW, outW, s, pad);
        for (let oy = oyLo; oy < oyHi; oy++) {
          const row = xc + (oy * s - pad + ky) * inW - pad + kx;
          const p = q + oy * outW;
          for (let ox = oxLo; ox < oxHi; ox++) dx[row + ox * s] += col[p + ox];
        }
        q += P;
      }
    }
  }
}

/**
 * Whether Kernels.convForward handles g: stride 1 and rows of at least 4 outputs (its column
 * tiles are 4 or 8 wide). The padded input then fits the patch-matrix scratch, as
 * k*k*oh*ow >= (h + 2pad)*(w + 2pad) for stride 1.
 */
export function directConvApplies(g: ConvGeometry): boolean {
  return g.stride === 1 && g.outW >= 4;
}

/**
 * Whether conv2dForward takes the direct path when it may: when the 4/8-wide tiles cover each
 * output row exactly, or rows of 8m + 2 in 4-channel groups (LeNet's conv2: rows of 10 = an
 * 8-column tile plus 2 columns done two rows at a time). Otherwise the last tile of a row
 * recomputes columns, and im2col + GEMM measured as fast or faster (docs/perf/plain-kernels.md).
 */
export function directConvPays(g: ConvGeometry): boolean {
  if (!directConvApplies(g)) return false;
  return g.outW % 4 === 0 || (g.outW % 8 === 2 && g.outW >= 8 && g.outChannels % 4 === 0);
}

/**
 * Whether Kernels.convFilterGrad handles g: stride 1 and rows a multiple of 4 (its 4-blocks of
 * output positions then never cross a row), or rows of 4m + 2 taken in pairs (one block per
 * pair crosses; LeNet's conv2).
 */
export function directFilterApplies(g: ConvGeometry): boolean {
  if (!directConvApplies(g)) return false;
  return g.outW % 4 === 0 || (g.outW % 4 === 2 && g.outH % 2 === 0);
}

/**
 * Whether training must keep this layer's patch matrices between forward and backward. Not
 * when the kernels convolve directly in both directions (forward, and dW via convFilterGrad):
 * then no patch matrix is ever written, which for LeNet's two convolutions saves the im2col
 * passes and ~2.2 MiB of arena traffic per 16-sample chunk, with the same bits.
 */
export function convKeepsCols<F extends FloatArray>(kern: Kernels<F>, g: ConvGeometry): boolean {
  return !(kern.convForward && kern.convFilterGrad && directFilterApplies(g) && directConvPays(g));
}

/**
 * Forward for n samples. x at xOff (stride in*h*w per sample), y at yOff (stride out*oh*ow).
 * `col` holds the patch matrices: sample i uses colOff + i*colStride (colStride = colSize(g) to
 * keep them all for the backward pass, or 0 to reuse one scratch matrix when only predicting).
 */
export function conv2dForward<F extends FloatArray>(
  kern: Kernels<F>, g: ConvGeometry, n: number,
  x: F, xOff: number,
  w: F, wOff: number, b: F, bOff: number,
  col: F, colOff: number, colStride: number,
  y: F, yOff: number,
): void {
  const P = g.outH * g.outW;
  const Q = colRows(g);
  const inSize = g.inChannels * g.inH * g.inW;
  const outSize = g.outChannels * P;
  if (colStride === 0 && kern.convForward && directConvPays(g)) {
    // Nothing keeps the patch matrices (inference): skip writing them.
    for (let i = 0; i < n; i++) kern.convForward(g, x, xOff + i * inSize, w, wOff, b, bOff, col, colOff, y, yOff + i * outSize);
    return;
  }
  for (let i = 0; i < n; i++) {
    const ci = colOff + i * colStride;
    kern.im2col(g, x, xOff + i * inSize, col, ci);
    const yi = yOff + i * outSize;
    kern.fillRows(g.outChannels, P, b, bOff, y, yi);
    kern.gemm(g.outChannels, P, Q, w, wOff, Q, 1, col, ci, P, 1, y, yi, true);
  }
}

/**
 * Backward for n samples: accumulates dW (at dwOff) and db (at dbOff) and, when `dx` is not
 * null, overwrites dx (at dxOff) with dL/dx. `col` must hold the patch matrices from the
 * forward pass (colStride = colSize(g)), or colStride = 0 to recompute them from x one by one
 * (or, where convKeepsCols() is false, to compute dW from x directly).
 * `dcol` is scratch of colSize(g) elements.
 */
export function conv2dBackward<F extends FloatArray>(
  kern: Kernels<F>, g: ConvGeometry, n: number,
  x: F, xOff: number,
  w: F, wOff: number,
  col: F, colOff: number, colStride: number,
  dy: F, dyOff: number,
  dw: F, dwOff: number, db: F, dbOff: number,
  dcol: F, dcolOff: number,
  dx: F | null, dxOff: number,
): void {
  const P = g.outH * g.outW;
  const Q = colRows(g);
  const inSize = g.inChannels * g.inH * g.inW;
  const outSize = g.outChannels * P;
  const direct = colStride === 0 && !convKeepsCols(kern, g);
  for (let i = 0; i < n; i++) {
    const ci = colOff + i * colStride;
    const dyi = dyOff + i * outSize;
    if (direct) {
      // `col` is only scratch for the padded input here.
      kern.convFilterGrad!(g, x, xOff + i * inSize, dy, dyi, dw, dwOff, col, colOff);
    } else {
      if (colStride === 0) kern.im2col(g, x, xOff + i * inSize, col, ci);
      kern.gemm(g.outChannels, Q, P, dy, dyi, P, 1, col, ci, 1, P, dw, dwOff, true);
    }
    kern.sumRows(g.outChannels, P, dy, dyi, db, dbOff);
    if (dx !== null) {
      kern.gemm(Q, P, g.outChannels, w, wOff, 1, Q, dy, dyi, P, 1, dcol, dcolOff, false);
      kern.col2im(g, dcol, dcolOff, dx, dxOff + i * inSize);
    }
  }
}
