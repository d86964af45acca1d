/**
 * 2-D pooling (average or max), NCHW, square window, any stride, no padding, floor mode
 * (PyTorch's AvgPool2d/MaxPool2d defaults). Max-pool gradient goes to the first maximum in
 * window scan order (row-major), which is what PyTorch does for ties in practice.
 */
import type { FloatArray, PoolGeometry } from '../kernel-types.js';
import type { PoolMode } from '@lenet/model';

export type { PoolGeometry } from '../kernel-types.js';

export function poolGeometry(
  mode: PoolMode, channels: number, inH: number, inW: number, kernel: number, stride: number,
): PoolGeometry {
  const outH = Math.floor((inH - kernel) / stride) + 1;
  const outW = Math.floor((inW - kernel) / stride) + 1;
  return { mode, channels, inH, inW, kernel, stride, outH, outW };
}

/** Forward for n samples: x at xOff (stride c*inH*inW), y at yOff (stride c*outH*outW). */
export function pool2dForward<F extends FloatArray>(g: PoolGeometry, n: number, x: F, xOff: number, y: F, yOff: number): void {
  const { channels, inH, inW, kernel: k, stride: s, outH, outW } = g;
  const planes = n * channels;
  const inPlane = inH * inW;
  const outPlane = outH * outW;
  const inv = 1 / (k * k);
  const isMax = g.mode === 'max';
  for (let pl = 0; pl < planes; pl++) {
    const xp = xOff + pl * inPlane;
    let yp = yOff + pl * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const base = xp + oy * s * inW + ox * s;
        if (isMax) {
          let m = x[base];
          for (let ky = 0; ky < k; ky++) {
            const r = base + ky * inW;
            for (let kx = 0; kx < k; kx++) {
              const v = x[r + kx];
              if (v > m) m = v;
            }
          }
          y[yp++] = m;
        } else {
          let sum = 0;
          for (let ky = 0; ky < k; ky++) {
            const r = base + ky * inW;
            for (let kx = 0; kx < k; kx++) sum += x[r + kx];
          }
          y[yp++] = sum * inv;
        }
      }
    }
  }
}

/** Backward for n samples: overwrites dx (at dxOff) from dy (at dyOff); max mode reads x. */
export function pool2dBackward<F extends FloatArray>(
  g: PoolGeometry, n: number, x: F, xOff: number, dy: F, dyOff: number, dx: F, dxOff: number,
): void {
  const { channels, inH, inW, kernel: k, stride: s, outH, outW } = g;
  const planes = n * channels;
  const inPlane = inH * inW;
  const outPlane = outH * outW;
  const inv = 1 / (k * k);
  const isMax = g.mode === 'max';
  dx.fill(0, dxOff, dxOff + planes * inPlane);
  for (let pl = 0; pl < planes; pl++) {
    const xp = pl * inPlane;
    let yp = dyOff + pl * outPlane;
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const base = xp + oy * s * inW + ox * s;
        const d = dy[yp++];
        if (isMax) {
          let best = base;
          let m = x[xOff + base];
          for (let ky = 0; ky < k; ky++) {
            const r = base + ky * inW;
            for (let kx = 0; kx < k; kx++) {
              if (x[xOff + r + kx] > m) {
                m = x[xOff + r + kx];
                best = r + kx;
              }
            }
          }
          dx[dxOff + best] += d;
        } else {
          const v = d * inv;
          for (let ky = 0; ky < k; ky++) {
            const r = dxOff + base + ky * inW;
            for (let kx = 0; kx < k; kx++) dx[r + kx] += v;
          }
        }
      }
    }
  }
}
