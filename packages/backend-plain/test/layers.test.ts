/**
 * Finite-difference gradient checks of every layer's backward pass, in float64, on the same
 * layer functions and JS kernels the plain-js tier runs (they are generic over the array type).
 * Each check uses L = sum(dy * f(x)) with a random upstream gradient dy.
 */
import { describe, expect, it } from 'vitest';
import type { ActivationFn, PoolMode } from '@lenet/model';
import { jsKernels, type Kernels } from '../src/kernels.js';
import { gemm } from '../src/gemm.js';
import { colSize, conv2dBackward, conv2dForward, convGeometry } from '../src/layers/conv2d.js';
import { poolGeometry } from '../src/layers/pool2d.js';
import { denseBackward, denseForward } from '../src/layers/dense.js';
import { softmaxCrossEntropyForwardBackward } from '../src/layers/loss.js';
import { dot, fdCheck, randomArray, sampleIndices } from './helpers.js';

const k64 = jsKernels as Kernels<Float64Array>;
/** fdCheck ratio bound (1 = within rtol 1e-6 + atol 1e-8). */
const TOL = 1;

describe('gemm (JS, register-blocked)', () => {
  it('matches a naive triple loop for every transpose layout and edge size', () => {
    for (const [M, N, K] of [[1, 1, 1], [4, 4, 4], [5, 7, 3], [6, 784, 25], [16, 150, 100], [9, 13, 17]]) {
      const A = randomArray(M * 100 + N, M * K);
      const B = randomArray(N * 100 + K, K * N);
      for (const [transA, transB] of [[false, false], [true, false], [false, true], [true, true]]) {
        const sAi = transA ? 1 : K, sAk = transA ? M : 1;
        const sBk = transB ? 1 : N, sBj = transB ? K : 1;
        const C = randomArray(7, M * N);
        const want = Float64Array.from(C);
        for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[i * sAi + k * sAk] * B[k * sBk + j * sBj];
          want[i * N + j] += s;
        }
        gemm(M, N, K, A, 0, sAi, sAk, B, 0, sBk, sBj, C, 0, true);
        for (let i = 0; i < M * N; i++) expect(C[i]).toBeCloseTo(want[i], 10);
      }
    }
  });
});

describe('conv2d gradients (float64 finite differences)', () => {
  const cases = [
    { name: 'lenet conv1 (1->6, k5, pad 2)', cin: 1, h: 12, w: 12, cout: 6, k: 5, s: 1, p: 2 },
    { name: 'lenet conv2 (6->16, k5, pad 0)', cin: 6, h: 9, w: 9, cout: 16, k: 5, s: 1, p: 0 },
    { name: 'strided padded 3x3 (3->4, s2, p1, odd size)', cin: 3, h: 11, w: 9, cout: 4, k: 3, s: 2, p: 1 },
    { name: 'stride 3, no padding, kernel 2', cin: 2, h: 10, w: 8, cout: 3, k: 2, s: 3, p: 0 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const g = convGeometry(c.cin, c.h, c.w, c.cout, c.k, c.s, c.p);
      const n = 2;
      const inSize = c.cin * c.h * c.w;
      const outSize = c.cout * g.outH * g.outW;
      const x = randomArray(1, n * inSize, 0, 1);
      const w = randomArray(2, c.cout * c.cin * c.k * c.k, -0.5, 0.5);
      const b = randomArray(3, c.cout);
      const dy = randomArray(4, n * outSize);
      const cs = colSize(g);
      const col = new Float64Array(n * cs);
      const dcol = new Float64Array(cs);
      const y = new Float64Array(n * outSize);
      const loss = (): number => {
        conv2dForward(k64, g, n, x, 0, w, 0, b, 0, col, 0, 0, y, 0);
        return dot(dy, y);
      };
      conv2dForward(k64, g, n, x, 0, w, 0, b, 0, col, 0, cs, y, 0);
      const dw = new Float64Array(w.length);
      const db = new Float64Array(b.length);
      const dx = new Float64Array(x.length);
      conv2dBackward(k64, g, n, x, 0, w, 0, col, 0, cs, dy, 0, dw, 0, db, 0, dcol, 0, dx, 0);
      // Same gradients when the patches are recomputed instead of kept (colStride 0).
      const dw2 = new Float64Array(w.length);
      const db2 = new Float64Array(b.length);
      const dx2 = new Float64Array(x.length);
      conv2dBackward(k64, g, n, x, 0, w, 0, new Float64Array(cs), 0, 0, dy, 0, dw2, 0, db2, 0, dcol, 0, dx2, 0);
      expect(Array.from(dw2)).toEqual(Array.from(dw));
      expect(Array.from(dx2)).toEqual(Array.from(dx));
      for (const [what, param, grad] of [['weight', w, dw], ['bias', b, db], ['input', x, dx]] as const) {
        const r = fdCheck(loss, param, grad, sampleIndices(param.length, 60, 9));
        expect(r.maxRel, `${c.name} d${what}: ${r.worst}`).toBeLessThan(TOL);
      }
    });
  }
});

describe('pool2d gradients (float64 finite differences)', () => {
  const cases: { mode: PoolMode; k: number; s: number; h: number; w: number }[] = [
    { mode: 'avg', k: 2, s: 2, h: 8, w: 8 },
    { mode: 'max', k: 2, s: 2, h: 8, w: 8 },
    { mode: 'avg', k: 3, s: 2, h: 9, w: 7 },
    { mode: 'max', k: 3, s: 2, h: 9, w: 7 },
    { mode: 'max', k: 2, s: 3, h: 8, w: 11 },
  ];
  for (const c of cases) {
    it(`${c.mode} k${c.k} s${c.s} on ${c.h}x${c.w}`, () => {
      const g = poolGeometry(c.mode, 3, c.h, c.w, c.k, c.s);
      const n = 2;
      // Distinct values (a permutation scaled) so max-pool has no ties within eps.
      const len = n * 3 * c.h * c.w;
      const x = randomArray(5, len);
      const outLen = n * 3 * g.outH * g.outW;
      const y = new Float64Array(outLen);
      const dy = randomArray(6, outLen);
      const loss = (): number => {
        k64.poolForward(g, n, x, 0, y, 0);
        return dot(dy, y);
      };
      const dx = new Float64Array(len);
      k64.poolBackward(g, n, x, 0, dy, 0, dx, 0);
      const r = fdCheck(loss, x, dx, sampleIndices(len, 200, 3), 1e-7);
      expect(r.maxRel, r.worst).toBeLessThan(TOL);
    });
  }
});

describe('activation gradients (float64 finite differences)', () => {
  for (const fn of ['sigmoid', 'relu', 'tanh'] as ActivationFn[]) {
    it(fn, () => {
      const len = 300;
      // Keep relu inputs away from the kink at 0, where the derivative is undefined.
      const x = randomArray(7, len, -4, 4).map((v) => (fn === 'relu' && Math.abs(v) < 1e-3 ? v + 0.01 : v));
      const y = new Float64Array(len);
      const dy = randomArray(8, len);
      const loss = (): number => {
        k64.activationForward(fn, len, x, 0, y, 0);
        return dot(dy, y);
      };
      loss();
      const dx = new Float64Array(len);
      k64.activationBackward(fn, len, y, 0, dy, 0, dx, 0);
      const r = fdCheck(loss, x, dx, sampleIndices(len, len, 0));
      expect(r.maxRel, r.worst).toBeLessThan(TOL);
      loss(); // y for the unperturbed x again
      // In place (how the engine runs it): y overwrites x, dx overwrites dy.
      const xi = Float64Array.from(x);
      k64.activationForward(fn, len, xi, 0, xi, 0);
      expect(Array.from(xi)).toEqual(Array.from(y));
      const dyi = Float64Array.from(dy);
      k64.activationBackward(fn, len, xi, 0, dyi, 0, dyi, 0);
      expect(Array.from(dyi)).toEqual(Array.from(dx));
    });
  }
});

describe('dense gradients (float64 finite differences)', () => {
  it('3 samples, 37 -> 11', () => {
    const n = 3, inF = 37, outF = 11;
    const x = randomArray(1, n * inF);
    const w = randomArray(2, outF * inF);
    const b = randomArray(3, outF);
    const dy = randomArray(4, n * outF);
    const y = new Float64Array(n * outF);
    const loss = (): number => {
      denseForward(k64, n, inF, outF, x, 0, w, 0, b, 0, y, 0);
      return dot(dy, y);
    };
    const dw = new Float64Array(w.length);
    const db = new Float64Array(b.length);
    const dx = new Float64Array(x.length);
    denseBackward(k64, n, inF, outF, x, 0, w, 0, dy, 0, dw, 0, db, 0, dx, 0);
    for (const [what, param, grad] of [['weight', w, dw], ['bias', b, db], ['input', x, dx]] as const) {
      const r = fdCheck(loss, param, grad, sampleIndices(param.length, 100, 2));
      expect(r.maxRel, `d${what}: ${r.worst}`).toBeLessThan(TOL);
    }
  });
});

describe('softmax cross-entropy', () => {
  it('gradient of the mean loss matches finite differences', () => {
    const n = 4, classes = 10;
    const z = randomArray(1, n * classes, -3, 3);
    const labels = [3, 0, 9, 3];
    const losses = new Float64Array(n);
    const loss = (): number => {
      softmaxCrossEntropyForwardBackward(n, classes, z, 0, labels, 0, 1 / n, losses, 0, null, 0);
      return losses.reduce((a, v) => a + v, 0) / n;
    };
    const dz = new Float64Array(n * classes);
    softmaxCrossEntropyForwardBackward(n, classes, z, 0, labels, 0, 1 / n, losses, 0, dz, 0);
    const r = fdCheck(loss, z, dz, sampleIndices(z.length, z.length, 0));
    expect(r.maxRel, r.worst).toBeLessThan(TOL);
  });

  it('is stable for huge logits', () => {
    const z = new Float64Array([1000, -1000, 0]);
    const losses = new Float64Array(1);
    const dz = new Float64Array(3);
    softmaxCrossEntropyForwardBackward(1, 3, z, 0, [1], 0, 1, losses, 0, dz, 0);
    expect(losses[0]).toBeCloseTo(2000, 6);
    expect(Array.from(dz)).toEqual([1, -1, 0]);
  });
});
