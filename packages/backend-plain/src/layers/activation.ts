/**
 * Element-wise activations. Forward runs in place (y overwrites x); backward needs only the
 * output y: sigmoid' = y(1-y), tanh' = 1-y^2, relu' = [y > 0].
 */
import type { FloatArray } from '../kernel-types.js';
import type { ActivationFn } from '@lenet/model';

/** y[i] = f(x[i]) for i in [off, off+len); x and y may be the same array/offset. */
export function activationForward<F extends FloatArray>(fn: ActivationFn, len: number, x: F, xOff: number, y: F, yOff: number): void {
  switch (fn) {
    case 'sigmoid':
      for (let i = 0; i < len; i++) y[yOff + i] = 1 / (1 + Math.exp(-x[xOff + i]));
      break;
    case 'relu':
      for (let i = 0; i < len; i++) {
        const v = x[xOff + i];
        y[yOff + i] = v > 0 ? v : 0;
      }
      break;
    case 'tanh':
      for (let i = 0; i < len; i++) y[yOff + i] = Math.tanh(x[xOff + i]);
      break;
    default:
      throw new Error(`activation: unknown function ${String(fn)}`);
  }
}

/** dx[i] = dy[i] * f'(x[i]) written through y = f(x); dx and dy may alias. */
export function activationBackward<F extends FloatArray>(
  fn: ActivationFn, len: number, y: F, yOff: number, dy: F, dyOff: number, dx: F, dxOff: number,
): void {
  switch (fn) {
    case 'sigmoid':
      for (let i = 0; i < len; i++) {
        const v = y[yOff + i];
        dx[dxOff + i] = dy[dyOff + i] * v * (1 - v);
      }
      break;
    case 'relu':
      for (let i = 0; i < len; i++) dx[dxOff + i] = y[yOff + i] > 0 ? dy[dyOff + i] : 0;
      break;
    case 'tanh':
      for (let i = 0; i < len; i++) {
        const v = y[yOff + i];
        dx[dxOff + i] = dy[dyOff + i] * (1 - v * v);
      }
      break;
    default:
      throw new Error(`activation: unknown function ${String(fn)}`);
  }
}
