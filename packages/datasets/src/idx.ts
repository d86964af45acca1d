/**
 * IDX reader/writer (the MNIST file format, http://yann.lecun.com/exdb/mnist/ "FILE FORMATS").
 *
 * Layout: bytes 0-1 are zero, byte 2 is the element type, byte 3 the rank (number of dimensions),
 * then one big-endian uint32 per dimension, then the elements, big-endian, row-major.
 * This module is browser-safe and works on already-decompressed bytes; the `./node` entry
 * gunzips first.
 */

export type IdxDType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

export type IdxArray =
  | { dtype: 'uint8'; dims: number[]; data: Uint8Array }
  | { dtype: 'int8'; dims: number[]; data: Int8Array }
  | { dtype: 'int16'; dims: number[]; data: Int16Array }
  | { dtype: 'int32'; dims: number[]; data: Int32Array }
  | { dtype: 'float32'; dims: number[]; data: Float32Array }
  | { dtype: 'float64'; dims: number[]; data: Float64Array };

/** What was wrong, machine-readable; the message says it in words. */
export type IdxErrorCode =
  | 'too-short' // fewer bytes than the header needs
  | 'bad-magic' // first two bytes not zero
  | 'compressed' // gzip bytes handed to the raw parser
  | 'bad-gzip' // gzip stream could not be decompressed (node entry)
  | 'bad-dtype' // unknown element type code
  | 'bad-rank' // rank outside 1..4
  | 'truncated' // fewer data bytes than the dimensions promise
  | 'trailing-bytes' // more bytes than the dimensions promise
  | 'mismatch'; // well-formed IDX but not what the caller needs (shape, dtype, counts, labels)

/** A corrupt, truncated or unexpected IDX file. `file` names it (path or file name). */
export class IdxError extends Error {
  override name = 'IdxError';
  constructor(
    readonly file: string,
    readonly code: IdxErrorCode,
    readonly problem: string,
  ) {
    super(`Invalid IDX file ${file}: ${problem}`);
  }
}

interface DTypeInfo {
  dtype: IdxDType;
  code: number;
  size: number;
}

// 0x0A is not assigned by the format.
const DTYPES: readonly DTypeInfo[] = [
  { dtype: 'uint8', code: 0x08, size: 1 },
  { dtype: 'int8', code: 0x09, size: 1 },
  { dtype: 'int16', code: 0x0b, size: 2 },
  { dtype: 'int32', code: 0x0c, size: 4 },
  { dtype: 'float32', code: 0x0d, size: 4 },
  { dtype: 'float64', code: 0x0e, size: 8 },
];

const BY_CODE = new Map(DTYPES.map((d) => [d.code, d]));
const BY_NAME = new Map(DTYPES.map((d) => [d.dtype, d]));

export const IDX_MAX_RANK = 4;

/** True if the bytes start with the gzip magic number 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function hex(b: number): string {
  return '0x' + b.toString(16).padStart(2, '0');
}

function describeShape(dims: readonly number[], dtype: IdxDType): string {
  return `${dims.join('x')} ${dtype}`;
}

/**
 * Parse one decompressed IDX file. Zero-sized dimensions are accepted (an empty array is a
 * well-formed IDX file); callers that need samples (e.g. parseImageSplit) reject them.
 *
 * For uint8 and int8 the returned `data` is a view into `bytes` (no copy); wider types are
 * decoded from big-endian into new arrays. Throws IdxError naming `file` on any defect.
 */
export function parseIdx(bytes: Uint8Array, file: string): IdxArray {
  if (isGzip(bytes)) {
    throw new IdxError(
      file,
      'compressed',
      'the bytes are gzip-compressed (start with 1f 8b); decompress them first ' +
        '(in Node, readIdxFile/gunzipIfNeeded from @lenet/datasets/node do this)',
    );
  }
  if (bytes.length < 4) {
    throw new IdxError(
      file,
      'too-short',
      `only ${bytes.length} bytes; an IDX file starts with a 4-byte magic number`,
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw new IdxError(
      file,
      'bad-magic',
      `bad magic number: the first two bytes must be 00 00, got ${hex(bytes[0])} ${hex(bytes[1])}`,
    );
  }
  const info = BY_CODE.get(bytes[2]);
  if (info === undefined) {
    throw new IdxError(
      file,
      'bad-dtype',
      `unknown element type code ${hex(bytes[2])} (valid: ${DTYPES.map((d) => `${hex(d.code)} ${d.dtype}`).join(', ')})`,
    );
  }
  const rank = bytes[3];
  if (rank < 1 || rank > IDX_MAX_RANK) {
    throw new IdxError(file, 'bad-rank', `rank ${rank} is not supported (expected 1..${IDX_MAX_RANK})`);
  }
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new IdxError(
      file,
      'too-short',
      `truncated header: rank ${rank} needs ${headerBytes} header bytes, the file has ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getUint32(4 + 4 * i, false);
    dims.push(d);
    count *= d; // exact while < 2^53; anything larger cannot match a real buffer anyway
  }
  const expected = headerBytes + count * info.size;
  if (bytes.length < expected) {
    throw new IdxError(
      file,
      'truncated',
      `truncated: the header declares ${describeShape(dims, info.dtype)} (${expected} bytes in all), ` +
        `but the file has only ${bytes.length} bytes`,
    );
  }
  if (bytes.length > expected) {
    throw new IdxError(
      file,
      'trailing-bytes',
      `${bytes.length - expected} unexpected trailing bytes after the ${describeShape(dims, info.dtype)} ` +
        `data (expected ${expected} bytes in all, got ${bytes.length})`,
    );
  }
  return decode(info.dtype, dims, bytes, view, headerBytes, count);
}

function decode(
  dtype: IdxDType,
  dims: number[],
  bytes: Uint8Array,
  view: DataView,
  offset: number,
  count: number,
): IdxArray {
  switch (dtype) {
    case 'uint8':
      return { dtype, dims, data: bytes.subarray(offset, offset + count) };
    case 'int8':
      return { dtype, dims, data: new Int8Array(bytes.buffer, bytes.byteOffset + offset, count) };
    case 'int16': {
      const data = new Int16Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt16(offset + 2 * i, false);
      return { dtype, dims, data };
    }
    case 'int32': {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + 4 * i, false);
      return { dtype, dims, data };
    }
    case 'float32': {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, false);
      return { dtype, dims, data };
    }
    case 'float64': {
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat64(offset + 8 * i, false);
      return { dtype, dims, data };
    }
  }
}

/** Serialise an array as an IDX file (big-endian), the inverse of parseIdx. */
export function encodeIdx(array: IdxArray): Uint8Array {
  const info = BY_NAME.get(array.dtype);
  if (info === undefined) throw new TypeError(`encodeIdx: unknown dtype ${String(array.dtype)}`);
  const { dims, data } = array;
  if (dims.length < 1 || dims.length > IDX_MAX_RANK) {
    throw new RangeError(`encodeIdx: rank ${dims.length} is not supported (expected 1..${IDX_MAX_RANK})`);
  }
  let count = 1;
  for (const d of dims) {
    if (!Number.isInteger(d) || d < 0 || d > 0xffffffff) {
      throw new RangeError(`encodeIdx: dimension ${d} is not an integer in 0..2^32-1`);
    }
    count *= d;
  }
  if (data.length !== count) {
    throw new RangeError(`encodeIdx: dims ${dims.join('x')} need ${count} elements, data has ${data.length}`);
  }
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * info.size);
  const view = new DataView(out.buffer);
  out[2] = info.code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  switch (array.dtype) {
    case 'uint8':
      out.set(array.data, header);
      break;
    case 'int8':
      out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, count), header);
      break;
    case 'int16':
      array.data.forEach((v, i) => view.setInt16(header + 2 * i, v, false));
      break;
    case 'int32':
      array.data.forEach((v, i) => view.setInt32(header + 4 * i, v, false));
      break;
    case 'float32':
      array.data.forEach((v, i) => view.setFloat32(header + 4 * i, v, false));
      break;
    case 'float64':
      array.data.forEach((v, i) => view.setFloat64(header + 8 * i, v, false));
      break;
  }
  return out;
}

/** Bytes per element of an IDX dtype. */
export function idxElementSize(dtype: IdxDType): number {
  const info = BY_NAME.get(dtype);
  if (info === undefined) throw new TypeError(`unknown IDX dtype ${String(dtype)}`);
  return info.size;
}

/**
 * Decompress gzip bytes with the web-standard DecompressionStream (browsers, Node >= 18, Deno).
 * Raw (non-gzip) bytes are returned unchanged. A corrupt stream throws IdxError 'bad-gzip'.
 */
export async function gunzipWeb(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  if (!isGzip(bytes)) return bytes;
  try {
    const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
      .stream()
      .pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new IdxError(file, 'bad-gzip', `not a valid gzip stream (${(err as Error).message})`);
  }
}
