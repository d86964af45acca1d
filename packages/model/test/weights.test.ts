import { describe, expect, it } from 'vitest';
import {
  WeightsError,
  cloneWeights,
  flattenWeights,
  getPreset,
  initWeights,
  paramInfos,
  unflattenWeights,
  validateWeights,
} from '../src/index.js';
import type { Weights } from '../src/index.js';
import { expectSameBytes, expectSameTensor } from './helpers.js';

const spec = getPreset('lenet5');
const fresh = (): Weights => initWeights(spec, 1);

function errorOf(fn: () => unknown): WeightsError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WeightsError);
    return e as WeightsError;
  }
  throw new Error('expected a WeightsError, nothing was thrown');
}

describe('validateWeights', () => {
  it('accepts matching weights in any order', () => {
    const w = fresh();
    expect(() => validateWeights(spec, w)).not.toThrow();
    const reversed = new Map([...w].reverse());
    expect(() => validateWeights(spec, reversed)).not.toThrow();
  });

  it('names a missing parameter with its expected shape', () => {
    const w = fresh();
    w.delete('fc2.weight');
    const e = errorOf(() => validateWeights(spec, w, 'ckpt.safetensors'));
    expect(e.message).toBe('ckpt.safetensors: weights do not match model "lenet5": missing parameter fc2.weight [84,120]');
    expect(e.param).toBe('fc2.weight');
    expect(e.source).toBe('ckpt.safetensors');
  });

  it('lists all missing parameters', () => {
    const w = fresh();
    w.delete('conv1.bias');
    w.delete('fc3.bias');
    expect(errorOf(() => validateWeights(spec, w)).message).toMatch(/missing parameters conv1\.bias \[6\], fc3\.bias \[10\]/);
  });

  it('names extra parameters', () => {
    const w = fresh();
    w.set('fc4.weight', { shape: [1], data: new Float32Array(1) });
    const e = errorOf(() => validateWeights(spec, w));
    expect(e.message).toMatch(/unexpected parameter "fc4\.weight" \(the model has conv1\.weight, .*fc3\.bias\)/);
  });

  it('names a wrong shape with expected vs got', () => {
    const w = fresh();
    w.set('conv2.weight', { shape: [16, 6, 3, 3], data: new Float32Array(16 * 6 * 9) });
    expect(errorOf(() => validateWeights(spec, w)).message).toMatch(
      /parameter "conv2\.weight": expected shape \[16,6,5,5\], got \[16,6,3,3\]/,
    );
    const transposed = fresh();
    transposed.set('fc1.weight', { shape: [400, 120], data: new Float32Array(48_000) });
    expect(errorOf(() => validateWeights(spec, transposed)).message).toMatch(/"fc1\.weight": expected shape \[120,400\], got \[400,120\]/);
  });

  it('rejects data of the wrong length or type', () => {
    const short = fresh();
    short.set('fc3.bias', { shape: [10], data: new Float32Array(9) });
    expect(errorOf(() => validateWeights(spec, short)).message).toMatch(/"fc3\.bias": shape \[10\] needs 10 values, data has 9/);
    const f64 = fresh();
    f64.set('fc3.bias', { shape: [10], data: new Float64Array(10) as unknown as Float32Array });
    expect(errorOf(() => validateWeights(spec, f64)).message).toMatch(/"fc3\.bias": data must be a Float32Array, got a Float64Array/);
    expect(errorOf(() => validateWeights(spec, {} as Weights)).message).toMatch(/expected a Map<string, Tensor>/);
  });

  it('rejects non-finite values, naming the index', () => {
    for (const bad of [Number.NaN, Infinity, -Infinity]) {
      const w = fresh();
      w.get('fc1.weight')!.data[123] = bad;
      expect(errorOf(() => validateWeights(spec, w)).message).toMatch(
        new RegExp(`"fc1\\.weight": value ${bad} at flat index 123 is not finite`),
      );
    }
  });
});

describe('cloneWeights', () => {
  it('makes an independent deep copy in the same order', () => {
    const w = fresh();
    const c = cloneWeights(w);
    expect([...c.keys()]).toEqual([...w.keys()]);
    for (const [name, t] of w) expectSameTensor(c.get(name), t, name);
    c.get('conv1.weight')!.data[0] = 42;
    c.get('conv1.weight')!.shape[0] = 1;
    expect(w.get('conv1.weight')!.data[0]).not.toBe(42);
    expect(w.get('conv1.weight')!.shape).toEqual([6, 1, 5, 5]);
  });
});

describe('flattenWeights / unflattenWeights', () => {
  it('concatenate in canonical order and round-trip exactly', () => {
    const w = fresh();
    const flat = flattenWeights(spec, w);
    expect(flat).toHaveLength(61_706);
    expectSameBytes(flat.subarray(0, 150), w.get('conv1.weight')!.data);
    expectSameBytes(flat.subarray(150, 156), w.get('conv1.bias')!.data);
    expectSameBytes(flat.subarray(2572, 2582), w.get('fc1.weight')!.data.subarray(0, 10), 'fc1 start');
    expectSameBytes(flat.subarray(61_706 - 10), w.get('fc3.bias')!.data);
    const back = unflattenWeights(spec, flat);
    expect([...back.keys()]).toEqual(paramInfos(spec).map((p) => p.name));
    for (const [name, t] of w) expectSameTensor(back.get(name), t, name);
    // The tensors are copies, not views of `flat`.
    flat[0] = 99;
    expect(back.get('conv1.weight')!.data[0]).not.toBe(99);
  });

  it('flatten orders by the spec, not by Map insertion order', () => {
    const w = fresh();
    const reversed = new Map([...w].reverse());
    expectSameBytes(flattenWeights(spec, reversed), flattenWeights(spec, w));
  });

  it('flatten keeps non-finite values (diverged weights can still be inspected) but checks shapes', () => {
    const w = fresh();
    w.get('fc2.bias')!.data[0] = Number.NaN;
    expect(Number.isNaN(flattenWeights(spec, w)[61_706 - 850 - 84])).toBe(true);
    w.delete('fc2.bias');
    expect(() => flattenWeights(spec, w)).toThrow(/missing parameter fc2\.bias/);
  });

  it('unflatten accepts plain arrays and Float64Array, rejects a wrong length', () => {
    const values = Array.from({ length: 61_706 }, (_, i) => i / 7);
    const fromArray = unflattenWeights(spec, values);
    const fromF64 = unflattenWeights(spec, Float64Array.from(values));
    for (const [name, t] of fromArray) expectSameTensor(fromF64.get(name), t, name);
    expect(fromArray.get('fc3.bias')!.data[9]).toBe(Math.fround(61_705 / 7));
    expect(() => unflattenWeights(spec, new Float32Array(61_705))).toThrow(/must have 61706 values \(its parameter count\), got 61705/);
  });
});
