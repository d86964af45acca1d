import { expect } from 'vitest';
import type { Tensor } from '../src/index.js';

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Byte-exact equality of two typed arrays. (vitest's toEqual walks large typed arrays element by
 * element and takes seconds; this is instant and also distinguishes -0/NaN payloads.)
 */
export function expectSameBytes(actual: ArrayBufferView, expected: ArrayBufferView, what = 'bytes'): void {
  expect(actual.constructor.name, what).toBe(expected.constructor.name);
  expect(actual.byteLength, `${what}: byte length`).toBe(expected.byteLength);
  const a = bytesOf(actual);
  const b = bytesOf(expected);
  if (!a.equals(b)) {
    let i = 0;
    while (a[i] === b[i]) i++;
    expect.fail(`${what}: first difference at byte ${i}: ${a[i]} vs ${b[i]}`);
  }
}

export function expectSameTensor(actual: Tensor | undefined, expected: Tensor, what = 'tensor'): void {
  expect(actual, what).toBeDefined();
  expect(actual!.shape, `${what}: shape`).toEqual(expected.shape);
  expectSameBytes(actual!.data, expected.data, what);
}
