import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { getPreset, initWeights } from '@lenet/model';
import { BackendInputError } from '../src/contract.js';
import { checkPredictInput, checkSessionInput, checkTrainInput } from '../src/checks.js';

const spec = getPreset('lenet5');

describe('checkPredictInput', () => {
  it('accepts x of exactly n images and longer buffers (batch buffers are reused)', () => {
    expect(() => checkPredictInput(spec, new Float32Array(784 * 3), 3)).not.toThrow();
    expect(() => checkPredictInput(spec, new Float32Array(784 * 8), 3)).not.toThrow();
  });

  it('rejects bad n with the value in the message', () => {
    for (const n of [0, -1, 1.5, Number.NaN, Infinity]) {
      expect(() => checkPredictInput(spec, new Float32Array(784 * 2), n)).toThrow(BackendInputError);
      expect(() => checkPredictInput(spec, new Float32Array(784 * 2), n)).toThrow(
        `predict: n must be a positive integer (the number of images in the batch), got ${n}`,
      );
    }
    expect(() => checkPredictInput(spec, new Float32Array(784), '2' as unknown as number)).toThrow(/got 2/);
  });

  it('rejects a short x naming the sizes', () => {
    expect(() => checkPredictInput(spec, new Float32Array(784 * 2 - 1), 2)).toThrow(
      'predict: x has 1567 values but n = 2 images of shape [1, 28, 28] (784 values each) need 1568',
    );
  });

  it('rejects x that is not a Float32Array', () => {
    expect(() => checkPredictInput(spec, new Float64Array(784) as unknown as Float32Array, 1)).toThrow(
      'predict: x must be a Float32Array of NCHW pixels, got Float64Array',
    );
  });

  it('property: accepts iff n is a positive integer and x.length >= n*784', () => {
    fc.assert(
      fc.property(fc.integer({ min: -2, max: 6 }), fc.integer({ min: 0, max: 6 * 784 + 5 }), (n, len) => {
        const ok = n >= 1 && len >= n * 784;
        const call = () => checkPredictInput(spec, new Float32Array(len), n);
        if (ok) expect(call).not.toThrow();
        else expect(call).toThrow(BackendInputError);
      }),
      { numRuns: 150, seed: 2 },
    );
  });
});

describe('checkTrainInput', () => {
  const x = new Float32Array(784 * 2);
  it('accepts valid input, longer y and lr = 0', () => {
    expect(() => checkTrainInput(spec, x, Int32Array.of(0, 9), 2, 0.1)).not.toThrow();
    expect(() => checkTrainInput(spec, x, Int32Array.of(0, 9, -5, 99), 2, 0)).not.toThrow();
  });

  it('rejects labels outside [0, classes)', () => {
    expect(() => checkTrainInput(spec, x, Int32Array.of(0, 10), 2, 0.1)).toThrow(
      'trainStep: label y[1] = 10 is outside [0, 10) (10 classes)',
    );
    expect(() => checkTrainInput(spec, x, Int32Array.of(-1, 1), 2, 0.1)).toThrow('label y[0] = -1');
  });

  it('rejects short y, wrong y type, bad n, short x', () => {
    expect(() => checkTrainInput(spec, x, Int32Array.of(1), 2, 0.1)).toThrow('trainStep: y has 1 labels but n = 2 images need 2');
    expect(() => checkTrainInput(spec, x, Uint8Array.of(1, 2) as unknown as Int32Array, 2, 0.1)).toThrow(
      'trainStep: y must be an Int32Array of class indices, got Uint8Array',
    );
    expect(() => checkTrainInput(spec, x, Int32Array.of(1, 2), 0, 0.1)).toThrow('trainStep: n must be a positive integer');
    expect(() => checkTrainInput(spec, x, Int32Array.of(1, 2, 3), 3, 0.1)).toThrow('trainStep: x has 1568 values but n = 3 images');
  });

  it('rejects negative and non-finite learning rates', () => {
    for (const lr of [-0.1, Number.NaN, Infinity, -Infinity]) {
      expect(() => checkTrainInput(spec, x, Int32Array.of(1, 2), 2, lr)).toThrow(
        `trainStep: lr must be a finite number >= 0, got ${lr}`,
      );
    }
  });
});

describe('checkSessionInput', () => {
  it('returns the validated spec for matching weights', () => {
    expect(checkSessionInput(spec, initWeights(spec, 0), 'test').name).toBe('lenet5');
  });

  it('turns WeightsError/SpecError into BackendInputError naming backend and param', () => {
    const w = initWeights(spec, 0);
    w.delete('fc2.weight');
    let err: unknown;
    try {
      checkSessionInput(spec, w, 'mybackend');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendInputError);
    expect((err as Error).message).toMatch(/^mybackend\.createSession: .*fc2\.weight/);
    expect((err as Error).cause).toBeInstanceOf(Error);
    const badSpec = { ...spec, layers: [] };
    expect(() => checkSessionInput(badSpec, initWeights(spec, 0), 'mybackend')).toThrow(BackendInputError);
  });
});
