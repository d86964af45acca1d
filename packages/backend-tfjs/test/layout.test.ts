// Weight layout conversions at the TF.js boundary.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { denseFromTf, denseToTf, hwcToChwIndex, hwioToOihw, oihwToHwio } from '../src/index.js';

const arrayOf = (n: number) => Float32Array.from({ length: n }, (_, i) => i + 1);

describe('conv weights OIHW <-> HWIO', () => {
  it('puts w[o][i][y][x] at hwio[y][x][i][o]', () => {
    const shape = [3, 2, 2, 4]; // O, I, kH, kW
    const src = arrayOf(3 * 2 * 2 * 4);
    const dst = oihwToHwio(src, shape);
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 2; i++)
        for (let y = 0; y < 2; y++)
          for (let x = 0; x < 4; x++) {
            expect(dst[((y * 4 + x) * 2 + i) * 3 + o]).toBe(src[((o * 2 + i) * 2 + y) * 4 + x]);
          }
  });

  it('round-trips exactly for any shape', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 4, maxLength: 4 }), (shape) => {
        const src = arrayOf(shape.reduce((a, b) => a * b, 1));
        expect(hwioToOihw(oihwToHwio(src, shape), shape)).toEqual(src);
      }),
    );
  });
});

describe('dense weights [out, in] <-> [in, out]', () => {
  it('transposes when the input is not a flattened feature map', () => {
    const src = arrayOf(6); // [out=2, in=3]
    expect(Array.from(denseToTf(src, [2, 3]))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('permutes input rows from PyTorch (C,H,W) to TF (H,W,C) flattening', () => {
    // [C=2, H=1, W=2]: canonical features c0w0 c0w1 c1w0 c1w1; TF order w0c0 w0c1 w1c0 w1c1.
    expect(Array.from(hwcToChwIndex([2, 1, 2]))).toEqual([0, 2, 1, 3]);
    const src = Float32Array.from([10, 11, 12, 13]); // [out=1, in=4]
    expect(Array.from(denseToTf(src, [1, 4], [2, 1, 2]))).toEqual([10, 12, 11, 13]);
  });

  it('round-trips exactly, with and without the flatten permutation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
        (out, chw) => {
          const inF = chw[0] * chw[1] * chw[2];
          const src = arrayOf(out * inF);
          expect(denseFromTf(denseToTf(src, [out, inF], chw), [out, inF], chw)).toEqual(src);
          expect(denseFromTf(denseToTf(src, [out, inF]), [out, inF])).toEqual(src);
        },
      ),
    );
  });

  it('rejects a flatten shape that does not match the layer inputs', () => {
    expect(() => denseToTf(arrayOf(8), [2, 4], [2, 2, 2])).toThrow(/4 inputs.*\[2, 2, 2\] has 8/);
  });
});
