import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { argmax, softmaxCrossEntropy } from '../src/loss.js';

/** Textbook formula without the max shift (fine for moderate logits). */
function naive(logits: number[], labels: number[], classes: number): number {
  let total = 0;
  labels.forEach((label, i) => {
    const row = logits.slice(i * classes, (i + 1) * classes);
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    total += -Math.log(Math.exp(row[label]!) / z);
  });
  return total / labels.length;
}

describe('softmaxCrossEntropy', () => {
  it('equals the textbook formula, averaged over n', () => {
    const logits = Float64Array.of(1, 2, 3, 0.5, -1, 2, 0, 0, 0);
    const r = softmaxCrossEntropy(logits, [2, 0, 1], 3, 3);
    expect(r.loss).toBeCloseTo(naive([...logits], [2, 0, 1], 3), 12);
    // argmaxes: 2, 2 (tie 0.5 vs 2 -> 2), 0 (three-way tie -> lowest index)
    expect(r.correct).toBe(1);
  });

  it('uniform logits give log(classes)', () => {
    const r = softmaxCrossEntropy(new Float32Array(20), [0, 9], 2, 10);
    expect(r.loss).toBeCloseTo(Math.log(10), 12);
  });

  it('is stable for huge logits (log-sum-exp with the max subtracted)', () => {
    const r = softmaxCrossEntropy(Float32Array.of(1000, -1000, 0, 1e30, 1e30, -1e30), [0, 2], 2, 3);
    expect(Number.isFinite(r.loss)).toBe(true);
    // row 0: loss ~ 0; row 1: logit 2 is 1e30 + ln 2 below the lse -> loss ~ 2e30 / 2
    expect(r.loss).toBeCloseTo((0 + 2e30) / 2, -25);
    expect(r.correct).toBe(1);
  });

  it('breaks argmax ties toward the lowest index', () => {
    expect(softmaxCrossEntropy(Float32Array.of(3, 7, 7, 1), [1], 1, 4).correct).toBe(1);
    expect(softmaxCrossEntropy(Float32Array.of(3, 7, 7, 1), [2], 1, 4).correct).toBe(0);
    expect(argmax([5, 5, 5], 0, 3)).toBe(0);
    expect(argmax([0, 1, 9, 2, 9], 1, 4)).toBe(1);
  });

  it('ignores values beyond n rows and labels beyond n', () => {
    const a = softmaxCrossEntropy(Float32Array.of(1, 2, NaN, NaN), [1, 99], 1, 2);
    expect(a.loss).toBeCloseTo(naive([1, 2], [1], 2), 12);
  });

  it('propagates NaN logits into the loss', () => {
    expect(softmaxCrossEntropy(Float32Array.of(NaN, 1), [0], 1, 2).loss).toBeNaN();
  });

  it('rejects bad arguments with precise messages', () => {
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0], 0, 2)).toThrow(/n must be a positive integer, got 0/);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0], 1, 0)).toThrow(/classes must be a positive integer/);
    expect(() => softmaxCrossEntropy(new Float32Array(3), [0, 1], 2, 2)).toThrow(/logits has 3 values, need n\*classes = 2\*2 = 4/);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0], 2, 2)).toThrow(/labels has 1 values, need n = 2/);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0, 2], 2, 2)).toThrow(/label 1 = 2 is outside \[0, 2\)/);
    expect(() => softmaxCrossEntropy(new Float32Array(4), [0.5, 1], 2, 2)).toThrow(/label 0 = 0.5/);
  });

  it('property: loss >= 0, invariant to shifting a row, and matches the naive formula', () => {
    const classes = 5;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(fc.double({ min: -20, max: 20, noNaN: true }), { minLength: classes, maxLength: classes }), fc.integer({ min: 0, max: classes - 1 })), { minLength: 1, maxLength: 6 }),
        fc.double({ min: -50, max: 50, noNaN: true }),
        (rows, shift) => {
          const logits = rows.flatMap(([r]) => r);
          const labels = rows.map(([, l]) => l);
          const r = softmaxCrossEntropy(Float64Array.from(logits), labels, rows.length, classes);
          const shifted = softmaxCrossEntropy(Float64Array.from(logits, (v) => v + shift), labels, rows.length, classes);
          expect(r.loss).toBeGreaterThanOrEqual(0);
          expect(shifted.loss).toBeCloseTo(r.loss, 9);
          expect(r.loss).toBeCloseTo(naive(logits, labels, classes), 9);
          const correct = rows.filter(([, l], i) => argmax(logits, i * classes, classes) === l).length;
          expect(r.correct).toBe(correct);
        },
      ),
      { numRuns: 200, seed: 1 },
    );
  });
});
