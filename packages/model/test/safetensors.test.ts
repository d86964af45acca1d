import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  WeightsError,
  decodeSafetensors,
  encodeSafetensors,
  getPreset,
  initWeights,
  paramInfos,
} from '../src/index.js';
import type { Weights } from '../src/index.js';
import { expectSameBytes, expectSameTensor } from './helpers.js';

const spec = getPreset('lenet5');

/** A safetensors file from a raw header (object or exact text) and data bytes. */
function build(header: unknown, data: Uint8Array = new Uint8Array(), headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const headerBytes = new TextEncoder().encode(text);
  const out = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(data, 8 + headerBytes.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function decodeError(bytes: Uint8Array, source = 'w.safetensors'): SafetensorsError {
  try {
    decodeSafetensors(bytes, source);
  } catch (e) {
    expect(e).toBeInstanceOf(SafetensorsError);
    expect((e as SafetensorsError).message.startsWith(`${source}: invalid safetensors file: `)).toBe(true);
    expect((e as SafetensorsError).source).toBe(source);
    return e as SafetensorsError;
  }
  throw new Error('expected a SafetensorsError, the bytes were accepted');
}

describe('encodeSafetensors', () => {
  const weights = initWeights(spec, 0);
  const bytes = encodeSafetensors(weights, { format: 'pt', seed: '0' });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));

  it('writes the documented layout: u64 LE length, space-padded JSON header, 8-aligned data', () => {
    expect((8 + n) % 8).toBe(0);
    expect(headerText.startsWith('{"__metadata__":{"format":"pt","seed":"0"},"conv1.weight":')).toBe(true);
    expect(headerText.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(headerText.slice(headerText.trimEnd().length))).toBe(true);
    expect(bytes.length).toBe(8 + n + 61_706 * 4);
    const header = JSON.parse(headerText);
    expect(header['conv1.weight']).toEqual({ dtype: 'F32', shape: [6, 1, 5, 5], data_offsets: [0, 600] });
    expect(header['conv1.bias']).toEqual({ dtype: 'F32', shape: [6], data_offsets: [600, 624] });
    // Tensors appear in canonical order in both the header and the data buffer.
    expect(Object.keys(header).slice(1)).toEqual(paramInfos(spec).map((p) => p.name));
    // Data is little-endian float32.
    const first = new DataView(bytes.buffer, bytes.byteOffset + 8 + n, 4).getFloat32(0, true);
    expect(first).toBe(weights.get('conv1.weight')!.data[0]);
  });

  it('omits __metadata__ when there is none and keeps integer-like names in order', () => {
    const w: Weights = new Map([
      ['b', { shape: [1], data: new Float32Array([1]) }],
      ['10', { shape: [1], data: new Float32Array([2]) }],
    ]);
    const out = encodeSafetensors(w, {});
    const text = new TextDecoder().decode(out.subarray(8, 8 + Number(new DataView(out.buffer).getBigUint64(0, true))));
    expect(text.trimEnd()).toBe('{"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"10":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}');
    expect([...decodeSafetensors(out).weights.keys()]).toEqual(['b', '10']);
  });

  it('rejects tensors it cannot write, naming them', () => {
    const bad = (t: unknown, name = 'x') => () => encodeSafetensors(new Map([[name, t]]) as Weights);
    expect(bad({ shape: [2], data: new Float64Array(2) })).toThrow(/tensor "x": data must be a Float32Array/);
    expect(bad({ shape: [3], data: new Float32Array(2) })).toThrow(/tensor "x": shape \[3\] needs 3 values, data has 2/);
    expect(bad({ shape: [-1], data: new Float32Array(0) })).toThrow(WeightsError);
    expect(bad({ shape: [1], data: new Float32Array(1) }, '__metadata__')).toThrow(/reserved/);
    expect(() => encodeSafetensors(new Map(), { n: 1 } as never)).toThrow(/metadata "n" must be a string/);
  });
});

describe('decodeSafetensors', () => {
  it('round-trips lenet5 weights and metadata exactly, in canonical order', () => {
    const weights = initWeights(spec, 5);
    const { weights: back, metadata } = decodeSafetensors(encodeSafetensors(weights, { note: 'héllo ✓' }), 'x');
    expect(metadata).toEqual({ note: 'héllo ✓' });
    expect([...back.keys()]).toEqual([...weights.keys()]);
    for (const [name, t] of weights) expectSameTensor(back.get(name), t, name);
  });

  it('preserves NaN/Inf/-0 bits and handles scalars and empty tensors', () => {
    const special = new Float32Array([Number.NaN, Infinity, -Infinity, -0, 1e-45, 3.4028234663852886e38]);
    const w: Weights = new Map([
      ['special', { shape: [2, 3], data: special }],
      ['scalar', { shape: [], data: new Float32Array([7]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ]);
    const back = decodeSafetensors(encodeSafetensors(w)).weights;
    expectSameBytes(back.get('special')!.data, special);
    expect(back.get('scalar')).toEqual({ shape: [], data: new Float32Array([7]) });
    expect(back.get('empty')).toEqual({ shape: [0, 4], data: new Float32Array(0) });
  });

  it('reads from an unaligned view and returns copies that do not alias the input', () => {
    const bytes = encodeSafetensors(new Map([['a', { shape: [3], data: new Float32Array([1, 2, 3]) }]]));
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    const view = shifted.subarray(3);
    const a = decodeSafetensors(view).weights.get('a')!;
    expect(Array.from(a.data)).toEqual([1, 2, 3]);
    view.fill(0);
    expect(Array.from(a.data)).toEqual([1, 2, 3]);
  });

  it('decodes from a Node Buffer (a pooled view) into independent copies', () => {
    const bytes = encodeSafetensors(new Map([['a', { shape: [2], data: new Float32Array([1.5, -2]) }]]));
    const buffer = Buffer.from(bytes); // small Buffers share one pool ArrayBuffer
    const a = decodeSafetensors(buffer, 'buf').weights.get('a')!;
    expect(a.data.buffer.byteLength).toBe(8);
    expect(Array.from(a.data)).toEqual([1.5, -2]);
    buffer.fill(0);
    expect(Array.from(a.data)).toEqual([1.5, -2]);
  });

  it('accepts files whose header is not padded and whose tensors are stored out of name order', () => {
    // As a Python writer might: sorted by name, b's data stored before a's.
    const header = { a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } };
    const { weights } = decodeSafetensors(build(header, f32Bytes([2, 1])));
    expect([...weights.keys()]).toEqual(['b', 'a']);
    expect(weights.get('a')!.data[0]).toBe(1);
    expect(weights.get('b')!.data[0]).toBe(2);
  });

  const t = (dtype: unknown, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
  const cases: [string, () => Uint8Array, RegExp][] = [
    ['an empty file', () => new Uint8Array(0), /file is 0 bytes, too short for the 8-byte header length/],
    ['a 7-byte file', () => new Uint8Array(7), /file is 7 bytes/],
    ['a header length past the end', () => build({}, new Uint8Array(), 100n), /header length 100 exceeds the 2 bytes after the length field/],
    ['a huge header length', () => build({}, new Uint8Array(), 2n ** 63n), /header length 9223372036854775808 exceeds/],
    ['a zero header length', () => build('', new Uint8Array(4), 0n), /header length 0 is too small/],
    ['a header that is not UTF-8', () => build('{"\xff":1}'.replace('\xff', '?')).map((b, i) => (i === 10 ? 0xff : b)), /header is not valid UTF-8/],
    ['a header that is not JSON', () => build('{"a": '), /header is not valid JSON/],
    ['a JSON array header', () => build([1, 2]), /header must be a JSON object, got \[1,2\]/],
    ['a JSON string header', () => build('"abc"'), /header must be a JSON object, got "abc"/],
    ['a non-object entry', () => build({ w: 5 }), /tensor "w": expected \{dtype, shape, data_offsets\}, got 5/],
    ['an F16 tensor', () => build({ w: t('F16', [2], [0, 4]) }, new Uint8Array(4)), /tensor "w": dtype "F16" is not supported \(only F32/],
    ['an F64 tensor', () => build({ w: t('F64', [1], [0, 8]) }, new Uint8Array(8)), /dtype "F64" is not supported/],
    ['a missing dtype', () => build({ w: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /dtype nothing \(missing\) is not supported/],
    ['a negative dimension', () => build({ w: t('F32', [-1], [0, 4]) }, new Uint8Array(4)), /tensor "w": shape must be an array of non-negative integers, got \[-1\]/],
    ['a fractional dimension', () => build({ w: t('F32', [1.5], [0, 4]) }, new Uint8Array(4)), /shape must be an array of non-negative integers/],
    ['a non-array shape', () => build({ w: t('F32', 4, [0, 16]) }, new Uint8Array(16)), /shape must be an array/],
    ['offsets of the wrong arity', () => build({ w: t('F32', [1], [0]) }, new Uint8Array(4)), /data_offsets must be \[begin, end\] non-negative integers, got \[0\]/],
    ['negative offsets', () => build({ w: t('F32', [1], [-4, 0]) }, new Uint8Array(4)), /data_offsets must be \[begin, end\]/],
    ['end before begin', () => build({ w: t('F32', [0], [4, 0]) }, new Uint8Array(4)), /data_offsets \[4, 0\] end before begin/],
    ['offsets inconsistent with the shape', () => build({ w: t('F32', [2], [0, 4]) }, new Uint8Array(4)), /data_offsets \[0, 4\] hold 4 bytes but shape \[2\] of F32 needs 8/],
    ['offsets past the data', () => build({ w: t('F32', [2], [0, 8]) }, new Uint8Array(4)), /data_offsets \[0, 8\] run past the 4-byte data buffer/],
    ['overlapping tensors', () => build({ a: t('F32', [2], [0, 8]), b: t('F32', [2], [4, 12]) }, new Uint8Array(12)), /tensor "b" data_offsets \[4, 12\] overlap tensor "a" \[0, 8\]/],
    ['two tensors on the same bytes', () => build({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [0, 4]) }, new Uint8Array(8)), /overlap/],
    ['a gap between tensors', () => build({ a: t('F32', [1], [0, 4]), b: t('F32', [1], [8, 12]) }, new Uint8Array(12)), /4 unused bytes in the data buffer at \[4, 8\) before tensor "b"/],
    ['trailing bytes', () => build({ a: t('F32', [1], [0, 4]) }, new Uint8Array(6)), /the tensors cover 4 bytes but the data buffer has 6/],
    ['data but no tensors', () => build({}, new Uint8Array(4)), /cover 0 bytes but the data buffer has 4/],
    ['non-string metadata', () => build({ __metadata__: { epoch: 3 } }), /metadata "epoch" must be a string, got 3/],
    ['array metadata', () => build({ __metadata__: ['x'] }), /"__metadata__" must be an object of strings/],
  ];

  it.each(cases)('rejects %s', (_name, make, pattern) => {
    expect(decodeError(make()).message).toMatch(pattern);
  });

  it('rejects a truncated real file', () => {
    const bytes = encodeSafetensors(initWeights(spec, 0));
    expect(decodeError(bytes.subarray(0, bytes.length - 1)).message).toMatch(/tensor "fc3\.bias": data_offsets \[246784, 246824\] run past the 246823-byte data buffer/);
    expect(decodeError(bytes.subarray(0, 100)).message).toMatch(/header length \d+ exceeds the 92 bytes/);
  });

  it('names the source in every error and works without one', () => {
    expect(() => decodeSafetensors(new Uint8Array(3))).toThrow(/^invalid safetensors file: file is 3 bytes/);
    expect(() => decodeSafetensors('abc' as never, 'f')).toThrow(/^f: invalid safetensors file: expected bytes \(Uint8Array\)/);
  });

  it('accepts null metadata and zero tensors', () => {
    expect(decodeSafetensors(build({ __metadata__: null }))).toEqual({ weights: new Map(), metadata: {} });
    expect(decodeSafetensors(encodeSafetensors(new Map()))).toEqual({ weights: new Map(), metadata: {} });
  });
});

describe('safetensors properties (fast-check)', () => {
  const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__');
  const tensor = fc
    .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
    .chain((shape) =>
      fc
        .array(fc.float({ noDefaultInfinity: false }), {
          minLength: shape.reduce((a, b) => a * b, 1),
          maxLength: shape.reduce((a, b) => a * b, 1),
        })
        .map((values) => ({ shape, data: Float32Array.from(values) })),
    );
  const weightsArb = fc.uniqueArray(fc.tuple(name, tensor), { selector: ([n]) => n, maxLength: 5 }).map((entries) => new Map(entries));
  const metadataArb = fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 });

  it('encode -> decode is the identity (bits, shapes, order, metadata)', () => {
    fc.assert(
      fc.property(weightsArb, metadataArb, (weights, metadata) => {
        const { weights: back, metadata: meta } = decodeSafetensors(encodeSafetensors(weights, metadata));
        expect(meta).toEqual({ ...metadata });
        // Encoding order, except that empty tensors sharing an offset come back sorted by name.
        const offsets: number[] = [];
        let at = 0;
        for (const t of weights.values()) offsets.push(at), (at += t.data.length);
        const expected = [...weights.keys()]
          .map((n, i) => ({ n, begin: offsets[i]!, end: offsets[i]! + weights.get(n)!.data.length }))
          .sort((a, b) => a.begin - b.begin || a.end - b.end || (a.n < b.n ? -1 : a.n > b.n ? 1 : 0))
          .map((e) => e.n);
        expect([...back.keys()]).toEqual(expected);
        for (const [n, t] of weights) {
          const b = back.get(n)!;
          expectSameTensor(b, t, n);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('empty tensors at one offset come back by name, whatever the encoding order (JSON key order is not kept)', () => {
    const empty = { shape: [0], data: new Float32Array(0) };
    const w = new Map([[' ', empty], ['0', empty], ['b', { shape: [1], data: Float32Array.from([2]) }]]);
    expect([...decodeSafetensors(encodeSafetensors(w)).weights.keys()]).toEqual([' ', '0', 'b']);
    const w2 = new Map([['0', empty], [' ', empty]]);
    expect([...decodeSafetensors(encodeSafetensors(w2)).weights.keys()]).toEqual([' ', '0']);
  });

  const valid = encodeSafetensors(
    new Map([
      ['conv.weight', { shape: [2, 1, 2, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) }],
      ['conv.bias', { shape: [2], data: Float32Array.from([0.5, -0.5]) }],
    ]),
    { k: 'v' },
  );

  /** Decoding must return consistent weights or throw SafetensorsError — nothing else. */
  function decodesOrRejects(bytes: Uint8Array): void {
    try {
      const { weights } = decodeSafetensors(bytes, 'fuzz');
      let total = 0;
      for (const t of weights.values()) {
        expect(t.data.length).toBe(t.shape.reduce((a, b) => a * b, 1));
        total += t.data.byteLength;
      }
      expect(total).toBeLessThanOrEqual(bytes.length);
    } catch (e) {
      if (!(e instanceof SafetensorsError)) throw e;
      expect(e.message).toMatch(/^fuzz: invalid safetensors file: /);
    }
  }

  it('mutated bytes (flips, truncation, insertion) are decoded consistently or rejected with SafetensorsError', () => {
    const mutation = fc.oneof(
      fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }).map(
        (edits) => (b: Uint8Array) => {
          const out = b.slice();
          for (const [i, v] of edits) out[i] = v;
          return out;
        },
      ),
      fc.nat(valid.length).map((n) => (b: Uint8Array) => b.slice(0, n)),
      fc.tuple(fc.nat(valid.length), fc.uint8Array({ minLength: 1, maxLength: 8 })).map(([at, extra]) => (b: Uint8Array) => {
        const out = new Uint8Array(b.length + extra.length);
        out.set(b.subarray(0, at));
        out.set(extra, at);
        out.set(b.subarray(at), at + extra.length);
        return out;
      }),
    );
    fc.assert(fc.property(mutation, (mutate) => decodesOrRejects(mutate(valid))), { numRuns: 500 });
  });

  it('arbitrary bytes and arbitrary JSON headers are decoded consistently or rejected with SafetensorsError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), decodesOrRejects), { numRuns: 300 });
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constant('F32'), fc.constant('F16'), fc.jsonValue()),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), fc.jsonValue()),
        data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -4, max: 40 }), fc.integer({ min: -4, max: 40 })), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const header = fc.oneof(fc.dictionary(fc.oneof(fc.string(), fc.constant('__metadata__')), fc.oneof(entry, fc.jsonValue()), { maxKeys: 4 }), fc.jsonValue());
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 40 }), (h, data) => decodesOrRejects(build(h ?? null, data))),
      { numRuns: 500 },
    );
  });
});
