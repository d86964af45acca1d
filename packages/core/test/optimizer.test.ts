// The one update rule (optimizer.ts) against a hand-computed example, its validation, and the
// float64 reference's multi-step runs (referenceTrainSteps) with it.
import { describe, expect, it } from 'vitest';
import { getPreset } from '@lenet/model';
import { checkOptimizer, describeOptimizer, refuseOptimizer, sgdMomentumUpdate, type SgdMomentum } from '../src/optimizer.js';
import { referenceSgdStep, referenceTrainSteps } from '../src/reference.js';
import { conformanceWeights, randomImages, randomLabels } from '../src/testdata.js';
import { BackendInputError } from '../src/contract.js';

describe('sgdMomentumUpdate (torch.optim.SGD, dampening 0)', () => {
  // w = 1, lr = 0.1, μ = 0.9, wd = 0.01, gradients 0.5 then -0.2:
  // step 1: d = 0.5 + 0.01·1 = 0.51; v = 0.51; w = 1 - 0.1·0.51 = 0.949
  // step 2: d = -0.2 + 0.01·0.949 = -0.19051; v = 0.9·0.51 - 0.19051 = 0.26849; w = 0.949 - 0.026849 = 0.922151
  // Nesterov, step 1: d = 0.51 + 0.9·0.51 = 0.969; w = 0.9031
  // Nesterov, step 2: d = -0.19051 (wd on w = 0.9031: -0.2 + 0.009031 = -0.190969); v = 0.459 - 0.190969 = 0.268031;
  //   d = -0.190969 + 0.9·0.268031 = 0.0502589; w = 0.9031 - 0.00502589 = 0.89807411
  const sgd: SgdMomentum = { momentum: 0.9, weightDecay: 0.01, nesterov: false };

  it('momentum + weight decay, two steps', () => {
    const v = new Float64Array(1);
    const w1 = sgdMomentumUpdate(1, 0.5, 0.1, sgd, v, 0);
    expect(w1).toBeCloseTo(0.949, 14);
    expect(v[0]).toBeCloseTo(0.51, 14);
    const w2 = sgdMomentumUpdate(w1, -0.2, 0.1, sgd, v, 0);
    expect(v[0]).toBeCloseTo(0.26849, 14);
    expect(w2).toBeCloseTo(0.922151, 14);
  });

  it('Nesterov, two steps', () => {
    const v = new Float64Array(1);
    const w1 = sgdMomentumUpdate(1, 0.5, 0.1, { ...sgd, nesterov: true }, v, 0);
    expect(w1).toBeCloseTo(0.9031, 14);
    const w2 = sgdMomentumUpdate(w1, -0.2, 0.1, { ...sgd, nesterov: true }, v, 0);
    expect(v[0]).toBeCloseTo(0.268031, 14);
    expect(w2).toBeCloseTo(0.89807411, 14);
  });

  it('weight decay alone (momentum 0) leaves the velocity untouched', () => {
    const v = new Float64Array(1);
    expect(sgdMomentumUpdate(2, 0.5, 0.1, { momentum: 0, weightDecay: 0.1, nesterov: false }, v, 0)).toBeCloseTo(2 - 0.1 * 0.7, 14);
    expect(v[0]).toBe(0);
  });
});

describe('checkOptimizer', () => {
  it('plain SGD (absent or all defaults) is undefined; anything else is resolved', () => {
    expect(checkOptimizer('x', undefined)).toBeUndefined();
    expect(checkOptimizer('x', {})).toBeUndefined();
    expect(checkOptimizer('x', { momentum: 0, weightDecay: 0, nesterov: false })).toBeUndefined();
    expect(checkOptimizer('x', { momentum: 0.9 })).toEqual({ momentum: 0.9, weightDecay: 0, nesterov: false });
    expect(checkOptimizer('x', { weightDecay: 1e-4 })).toEqual({ momentum: 0, weightDecay: 1e-4, nesterov: false });
  });

  it.each([
    [{ momentum: 1 }, /x: options\.optimizer\.momentum must be a number in \[0, 1\), got 1/],
    [{ momentum: '0.9' }, /momentum must be a number/],
    [{ weightDecay: -1 }, /weightDecay must be a finite number >= 0, got -1/],
    [{ weightDecay: Infinity }, /weightDecay must be a finite number/],
    [{ nesterov: 'yes' }, /nesterov must be a boolean/],
    [{ nesterov: true }, /nesterov needs momentum > 0/],
    [{ lr: 0.1 }, /options\.optimizer\.lr is not an option/],
    [42, /options\.optimizer must be an object/],
  ])('%j is a BackendInputError naming the field', (o, message) => {
    expect(() => checkOptimizer('x', o)).toThrow(BackendInputError);
    expect(() => checkOptimizer('x', o)).toThrow(message);
  });

  it('refuseOptimizer names backend and feature in one line; plain SGD passes', () => {
    expect(() => refuseOptimizer('tfjs-layers-cpu', {})).not.toThrow();
    expect(() => refuseOptimizer('tfjs-layers-cpu', { momentum: 0.9, nesterov: true })).toThrow(
      'tfjs-layers-cpu cannot train with momentum or weight decay (asked for SGD (momentum 0.9 nesterov)); it supports plain SGD only',
    );
    expect(describeOptimizer({ weightDecay: 5e-4 })).toBe('SGD (weight decay 0.0005)');
  });
});

describe('referenceTrainSteps', () => {
  const spec = getPreset('lenet5-modern');
  const weights = conformanceWeights(spec, 7);
  const x = randomImages(8, 4, 784);
  const y = randomLabels(9, 4, 10);

  it('plain SGD equals referenceSgdStep step after step', () => {
    const one = referenceSgdStep(spec, weights, x, y, 4, 0.1);
    const two = referenceSgdStep(spec, one.weights, x, y, 4, 0.1);
    const steps = referenceTrainSteps(spec, weights, [{ x, y, n: 4, lr: 0.1 }, { x, y, n: 4, lr: 0.1 }]);
    expect(steps.losses).toEqual([one.loss, two.loss]);
    for (const [name, t] of two.weights) expect([...steps.weights.get(name)!.data]).toEqual([...t.data]);
  });

  it('momentum makes the second step differ from plain SGD, and the first step equal to it (v starts at 0)', () => {
    const plain = referenceTrainSteps(spec, weights, [{ x, y, n: 4, lr: 0.1 }, { x, y, n: 4, lr: 0.1 }]);
    const m1 = referenceTrainSteps(spec, weights, [{ x, y, n: 4, lr: 0.1 }], { momentum: 0.9 });
    const m2 = referenceTrainSteps(spec, weights, [{ x, y, n: 4, lr: 0.1 }, { x, y, n: 4, lr: 0.1 }], { momentum: 0.9 });
    const first = referenceSgdStep(spec, weights, x, y, 4, 0.1).weights;
    expect([...m1.weights.get('fc3.bias')!.data]).toEqual([...first.get('fc3.bias')!.data]);
    expect(m2.losses[1]).toBe(plain.losses[1]); // the same weights went into step 2's forward pass
    expect([...m2.weights.get('fc3.bias')!.data]).not.toEqual([...plain.weights.get('fc3.bias')!.data]);
  });
});
