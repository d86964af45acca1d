import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdxError, encodeIdx, gunzipWeb, idxElementSize, isGzip, parseIdx } from '../src/index.js';
import type { IdxArray, IdxDType } from '../src/index.js';
import { gunzipIfNeeded } from '../src/node.js';

const DTYPES: IdxDType[] = ['uint8', 'int8', 'int16', 'int32', 'float32', 'float64'];

function makeArray(dtype: IdxDType, dims: number[], values: number[]): IdxArray {
  switch (dtype) {
    case 'uint8':
      return { dtype, dims, data: Uint8Array.from(values) };
    case 'int8':
      return { dtype, dims, data: Int8Array.from(values) };
    case 'int16':
      return { dtype, dims, data: Int16Array.from(values) };
    case 'int32':
      return { dtype, dims, data: Int32Array.from(values) };
    case 'float32':
      return { dtype, dims, data: Float32Array.from(values) };
    case 'float64':
      return { dtype, dims, data: Float64Array.from(values) };
  }
}

function catchIdx(fn: () => unknown): IdxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(IdxError);
    return err as IdxError;
  }
  throw new Error('expected an IdxError, nothing was thrown');
}

/** A small valid labels-like file: idx1 uint8 [0,1,...,9]. */
const LABELS = encodeIdx({ dtype: 'uint8', dims: [10], data: Uint8Array.from({ length: 10 }, (_, i) => i) });

describe('parseIdx: valid files', () => {
  it('reads the header and data of a hand-written idx3 uint8 file', () => {
    // 2 images of 2x3: magic 00 00 08 03, dims 2, 2, 3, then 12 bytes.
    const bytes = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
    const a = parseIdx(bytes, 'hand.idx3');
    expect(a.dtype).toBe('uint8');
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
  });

  it('decodes multi-byte types as big-endian', () => {
    const bytes = Uint8Array.from([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    const a = parseIdx(bytes, 'be.idx1');
    expect(a.dtype).toBe('int16');
    expect(Array.from(a.data)).toEqual([0x0102, -2]);
  });

  it.each(DTYPES)('round-trips %s through encodeIdx/parseIdx for ranks 1..4', (dtype) => {
    const samples: Record<IdxDType, number[]> = {
      uint8: [0, 1, 127, 255],
      int8: [-128, -1, 0, 127],
      int16: [-32768, -1, 0, 32767],
      int32: [-2147483648, -1, 0, 2147483647],
      float32: [-1.5, 0, 3.25, 1e30],
      float64: [-1e300, Math.PI, 0, 5e-324],
    };
    for (const dims of [[4], [2, 2], [1, 2, 2], [1, 1, 2, 2]]) {
      const input = makeArray(dtype, dims, samples[dtype]);
      const bytes = encodeIdx(input);
      expect(bytes.length).toBe(4 + 4 * dims.length + 4 * idxElementSize(dtype));
      const out = parseIdx(bytes, 'roundtrip');
      expect(out.dtype).toBe(dtype);
      expect(out.dims).toEqual(dims);
      expect(Array.from(out.data)).toEqual(Array.from(input.data));
    }
  });

  it('accepts zero-sized dimensions as an empty array', () => {
    const bytes = Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28]);
    const a = parseIdx(bytes, 'empty.idx3');
    expect(a.dims).toEqual([0, 28, 28]);
    expect(a.data.length).toBe(0);
  });

  it('returns uint8 data as a view of the input (no copy)', () => {
    const a = parseIdx(LABELS, 'labels');
    expect(a.data.buffer).toBe(LABELS.buffer);
    expect(a.data.byteOffset).toBe(LABELS.byteOffset + 8);
  });
});

describe('parseIdx: corrupt files', () => {
  it('rejects a wrong magic number, naming the file', () => {
    const bad = LABELS.slice();
    bad[1] = 0x42;
    const err = catchIdx(() => parseIdx(bad, 'train-labels-idx1-ubyte'));
    expect(err.code).toBe('bad-magic');
    expect(err.file).toBe('train-labels-idx1-ubyte');
    expect(err.message).toContain('train-labels-idx1-ubyte');
    expect(err.message).toContain('0x42');
  });

  it('rejects gzip bytes with a hint to decompress', () => {
    const err = catchIdx(() => parseIdx(gzipSync(LABELS), 'x.gz'));
    expect(err.code).toBe('compressed');
    expect(err.message).toMatch(/gzip/);
  });

  it('rejects unknown element types, including the unassigned 0x0A', () => {
    for (const code of [0x00, 0x07, 0x0a, 0x0f, 0xff]) {
      const bad = LABELS.slice();
      bad[2] = code;
      expect(catchIdx(() => parseIdx(bad, 'f')).code).toBe('bad-dtype');
    }
  });

  it('rejects rank 0 and rank > 4', () => {
    for (const rank of [0, 5, 255]) {
      const bad = LABELS.slice();
      bad[3] = rank;
      const err = catchIdx(() => parseIdx(bad, 'f'));
      // rank 5 also lacks header bytes, but the rank is reported first
      expect(err.code).toBe('bad-rank');
    }
  });

  it('rejects files shorter than the header', () => {
    expect(catchIdx(() => parseIdx(new Uint8Array(0), 'f')).code).toBe('too-short');
    expect(catchIdx(() => parseIdx(Uint8Array.from([0, 0, 8]), 'f')).code).toBe('too-short');
    const err = catchIdx(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'f'));
    expect(err.code).toBe('too-short');
    expect(err.message).toContain('16 header bytes');
  });

  it('rejects truncated data, saying how many bytes were expected', () => {
    const err = catchIdx(() => parseIdx(LABELS.subarray(0, LABELS.length - 1), 't10k-labels-idx1-ubyte'));
    expect(err.code).toBe('truncated');
    expect(err.message).toContain('t10k-labels-idx1-ubyte');
    expect(err.message).toContain('18 bytes');
    expect(err.message).toContain('only 17');
  });

  it('rejects trailing bytes', () => {
    const longer = new Uint8Array(LABELS.length + 3);
    longer.set(LABELS);
    const err = catchIdx(() => parseIdx(longer, 'f'));
    expect(err.code).toBe('trailing-bytes');
    expect(err.message).toContain('3 unexpected trailing bytes');
  });

  it('rejects dims that promise more data than there is (header edit)', () => {
    const bad = LABELS.slice();
    bad[4] = 0xff; // count becomes 0xff00000a
    expect(catchIdx(() => parseIdx(bad, 'f')).code).toBe('truncated');
  });
});

describe('gunzip helpers', () => {
  it('gunzipIfNeeded passes raw bytes through and decompresses gzip', () => {
    expect(gunzipIfNeeded(LABELS, 'f')).toBe(LABELS);
    expect(Array.from(gunzipIfNeeded(gzipSync(LABELS), 'f'))).toEqual(Array.from(LABELS));
    expect(isGzip(gzipSync(LABELS))).toBe(true);
  });

  it('gunzipIfNeeded throws IdxError bad-gzip on a truncated stream', () => {
    const gz = gzipSync(LABELS);
    const err = catchIdx(() => gunzipIfNeeded(gz.subarray(0, gz.length - 6), 'labels.gz'));
    expect(err.code).toBe('bad-gzip');
    expect(err.message).toContain('labels.gz');
  });

  it('gunzipWeb (DecompressionStream) matches zlib', async () => {
    const big = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 255);
    expect(Array.from(await gunzipWeb(gzipSync(big), 'f'))).toEqual(Array.from(big));
    expect(await gunzipWeb(big, 'f')).toBe(big);
    await expect(gunzipWeb(gzipSync(big).subarray(0, 40), 'cut.gz')).rejects.toThrow(IdxError);
  });
});

/** The invariant of the fuzz tests: a consistent array or an IdxError, nothing else. */
function parsesConsistentlyOrThrowsIdxError(bytes: Uint8Array, decompress = false): void {
  let a: IdxArray;
  try {
    a = parseIdx(decompress ? gunzipIfNeeded(bytes, 'fuzz.gz') : bytes, 'fuzz');
  } catch (err) {
    if (!(err instanceof IdxError)) throw err;
    expect(err.file.startsWith('fuzz')).toBe(true);
    return;
  }
  expect(a.dims.length).toBeGreaterThanOrEqual(1);
  expect(a.dims.length).toBeLessThanOrEqual(4);
  const count = a.dims.reduce((p, d) => p * d, 1);
  expect(a.data.length).toBe(count);
  expect(bytes.length).toBeGreaterThan(0);
}

const validFile = fc
  .record({
    dtype: fc.constantFrom(...DTYPES),
    dims: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 4 }),
    seed: fc.integer({ min: 0, max: 255 }),
  })
  .map(({ dtype, dims, seed }) => {
    const count = dims.reduce((p, d) => p * d, 1);
    return encodeIdx(makeArray(dtype, dims, Array.from({ length: count }, (_, i) => (seed + i * 7) % 100)));
  });

describe('parseIdx: property tests on mutated inputs', () => {
  it('valid files parse back to the declared shape', () => {
    fc.assert(
      fc.property(validFile, (bytes) => {
        const a = parseIdx(bytes, 'fuzz');
        expect(a.data.length).toBe(a.dims.reduce((p, d) => p * d, 1));
      }),
    );
  });

  it('bit flips', () => {
    fc.assert(
      fc.property(validFile, fc.array(fc.nat(), { minLength: 1, maxLength: 4 }), fc.array(fc.integer({ min: 0, max: 7 }), { minLength: 4, maxLength: 4 }), (bytes, positions, bits) => {
        const m = bytes.slice();
        positions.forEach((p, i) => (m[p % m.length] ^= 1 << bits[i]));
        parsesConsistentlyOrThrowsIdxError(m);
      }),
      { numRuns: 500 },
    );
  });

  it('truncation and appended bytes', () => {
    fc.assert(
      fc.property(validFile, fc.nat(), fc.uint8Array({ maxLength: 20 }), (bytes, cut, extra) => {
        const truncated = bytes.subarray(0, cut % (bytes.length + 1));
        parsesConsistentlyOrThrowsIdxError(truncated);
        const longer = new Uint8Array(bytes.length + extra.length);
        longer.set(bytes);
        longer.set(extra, bytes.length);
        parsesConsistentlyOrThrowsIdxError(longer);
        if (extra.length > 0) expect(() => parseIdx(longer, 'fuzz')).toThrow(IdxError);
        if (truncated.length < bytes.length) expect(() => parseIdx(truncated, 'fuzz')).toThrow(IdxError);
      }),
      { numRuns: 300 },
    );
  });

  it('header edits (magic, type, rank, dims)', () => {
    fc.assert(
      fc.property(validFile, fc.integer({ min: 0, max: 19 }), fc.integer({ min: 0, max: 255 }), (bytes, pos, value) => {
        const m = bytes.slice();
        if (pos < m.length) m[pos] = value;
        parsesConsistentlyOrThrowsIdxError(m);
      }),
      { numRuns: 500 },
    );
  });

  it('random bytes, including random headers that look plausible', () => {
    const plausible = fc
      .tuple(fc.constantFrom(8, 9, 10, 11, 12, 13, 14), fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 64 }))
      .map(([t, r, rest]) => Uint8Array.from([0, 0, t, r, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), plausible), (bytes) => parsesConsistentlyOrThrowsIdxError(bytes)),
      { numRuns: 1000 },
    );
  });

  it('mutated gzip streams: decompress+parse gives a consistent array or IdxError', () => {
    fc.assert(
      fc.property(validFile, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (bytes, pos, value, cut) => {
        const gz = gzipSync(bytes);
        const m = gz.slice(0, Math.max(2, cut % (gz.length + 1)));
        const p = pos % m.length;
        if (p >= 2) m[p] = value; // keep the gzip magic so the decompressor is exercised
        parsesConsistentlyOrThrowsIdxError(m, true);
      }),
      { numRuns: 300 },
    );
  });
});
