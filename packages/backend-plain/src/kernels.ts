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
import { col2im, im2col } from './layers/conv2d.js';
import { activationBackward, activationForward } from './layers/activation.js';
import { pool2dBackward, pool2dForward } from './layers/pool2d.js';

export type { FloatArray, Kernels, ConvGeometry, PoolGeometry } from './kernel-types.js';
import type { FloatArray, Kernels } from './kernel-types.js';

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

