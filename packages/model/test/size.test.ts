import { describe, expect, it } from 'vitest';
import { checkModelSize, getPreset, modelSize, ModelSizeError, SpecError } from '../src/index.js';

const wide = (channels: number) => {
  const spec = getPreset('lenet5');
  (spec.layers[0] as { outChannels: number }).outChannels = channels;
  return spec;
};

describe('checkModelSize: a memory bound checked before anything is allocated', () => {
  it('lenet5: 61,706 parameters, 15,002 activation floats per image, well inside the bound', () => {
    expect(modelSize(getPreset('lenet5'))).toEqual({ params: 61706, activationsPerImage: 15002, activationBytes: 15002 * 4 * 1000, batchSize: 1000 });
    expect(() => checkModelSize(getPreset('lenet5'))).not.toThrow();
  });

  it('1,000,000 channels: refused by the parameter bound, naming the numbers (no allocation: instant)', () => {
    const err = (() => {
      try {
        checkModelSize(wide(1_000_000), {}, 'huge.json');
      } catch (e) {
        return e;
      }
    })() as ModelSizeError;
    expect(err).toBeInstanceOf(ModelSizeError);
    expect(err).toBeInstanceOf(SpecError);
    expect(err.size.params).toBe(426_059_150);
    expect(err.message).toBe('model lenet5 (huge.json) is too large: expected at most 50,000,000 parameters, got 426,059,150 (1625 MiB of float32)');
  });

  it('activations are bounded at the given batch; limits are configurable', () => {
    expect(() => checkModelSize(wide(300))).toThrow(/expected at most 256 MiB of activations for a batch of 1000, got \d+ MiB/);
    expect(() => checkModelSize(wide(300), { batchSize: 100 })).not.toThrow();
    expect(() => checkModelSize(getPreset('lenet5'), { maxParams: 1000 })).toThrow(/at most 1,000 parameters, got 61,706/);
  });
});
