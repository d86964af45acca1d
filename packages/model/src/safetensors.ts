/**
 * safetensors (https://github.com/huggingface/safetensors) encoder/decoder for F32 weights.
 *
 * Layout: 8-byte little-endian u64 N | N bytes of UTF-8 JSON header | data buffer.
 * Header: {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [...],
 * "data_offsets": [begin, end]}, ...}, offsets relative to the data buffer. We pad the header
 * with spaces so the data starts 8-byte aligned (as the reference implementation does) and write
 * tensors in the Map's order (canonical order for weights built by this package).
 * Decoding accepts only what the reference implementation accepts, restricted to F32.
 */
import { SafetensorsError, WeightsError, describeValue, sourcePrefix } from './errors.js';
import type { Tensor, Weights } from './types.js';

const METADATA_KEY = '__metadata__';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface DecodedSafetensors {
  weights: Weights;
  metadata: Record<string, string>;
}

/** A fresh Uint8Array copy. (Not .slice(): on a Node Buffer that returns a view, not a copy.) */
function copyBytes(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** Little-endian float32 bytes of `data` (a copy). */
function float32ToBytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return copyBytes(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}

/** Float32 values from little-endian bytes (copied into a fresh, aligned buffer). */
function bytesToFloat32(bytes: Uint8Array): Float32Array {
  if (LITTLE_ENDIAN_HOST) return new Float32Array(copyBytes(bytes).buffer);
  const out = new Float32Array(bytes.length / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Serialises F32 weights (and optional string metadata) to safetensors bytes. */
export function encodeSafetensors(weights: Weights, metadata?: Record<string, string>): Uint8Array {
  if (!(weights instanceof Map)) throw new WeightsError(`encodeSafetensors: weights must be a Map<string, Tensor>, got ${describeValue(weights)}`);
  const entries: string[] = [];
  if (metadata !== undefined) {
    if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata)) {
      throw new SafetensorsError(`encodeSafetensors: metadata must be an object of strings, got ${describeValue(metadata)}`);
    }
    for (const [key, value] of Object.entries(metadata)) {
      if (typeof value !== 'string') {
        throw new SafetensorsError(`encodeSafetensors: metadata "${key}" must be a string (safetensors metadata is str -> str), got ${describeValue(value)}`);
      }
    }
    if (Object.keys(metadata).length > 0) entries.push(`${JSON.stringify(METADATA_KEY)}:${JSON.stringify(metadata)}`);
  }
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, tensor] of weights as Map<unknown, Tensor>) {
    const fail = (what: string): never => {
      throw new WeightsError(`encodeSafetensors: tensor ${describeValue(name)}: ${what}`, { param: String(name) });
    };
    if (typeof name !== 'string' || name === '') fail('tensor names must be non-empty strings');
    if (name === METADATA_KEY) fail(`"${METADATA_KEY}" is reserved for metadata`);
    if (typeof tensor !== 'object' || tensor === null) fail(`expected a tensor {shape, data}, got ${describeValue(tensor)}`);
    const { shape, data } = tensor;
    if (!(data instanceof Float32Array)) fail(`data must be a Float32Array (only F32 is written), got ${describeValue(data)}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`shape must be an array of non-negative integers, got ${describeValue(shape)}`);
    }
    const size = shape.reduce((n, d) => n * d, 1);
    if (size !== data.length) fail(`shape [${shape.join(',')}] needs ${size} values, data has ${data.length}`);
    const bytes = float32ToBytes(data);
    entries.push(
      `${JSON.stringify(name)}:${JSON.stringify({ dtype: 'F32', shape, data_offsets: [offset, offset + bytes.length] })}`,
    );
    chunks.push(bytes);
    offset += bytes.length;
  }
  // Built by hand rather than JSON.stringify(object) so integer-like names keep their order.
  let header = new TextEncoder().encode(`{${entries.join(',')}}`);
  const padded = Math.ceil(header.length / 8) * 8;
  if (padded !== header.length) {
    const withPad = new Uint8Array(padded).fill(0x20);
    withPad.set(header);
    header = withPad;
  }
  const out = new Uint8Array(8 + header.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, header.length, true);
  view.setUint32(4, Math.floor(header.length / 2 ** 32), true);
  out.set(header, 8);
  let position = 8 + header.length;
  for (const chunk of chunks) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}

/**
 * Parses and validates safetensors bytes: header length within the file, UTF-8 JSON object,
 * F32 dtypes only, shapes of non-negative integers, offsets matching shape*4, in bounds,
 * non-overlapping and covering the data buffer exactly, string metadata. Throws
 * SafetensorsError naming `source` and the problem. Weights come back in data-offset order
 * (the order they were encoded in; empty tensors at the same offset by name), as copies (they do
 * not alias `bytes`).
 */
export function decodeSafetensors(bytes: Uint8Array, source?: string): DecodedSafetensors {
  const fail = (what: string, cause?: unknown): never => {
    throw new SafetensorsError(`${sourcePrefix(source)}invalid safetensors file: ${what}`, { source, cause });
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected bytes (Uint8Array), got ${describeValue(bytes)}`);
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const headerLength = high * 2 ** 32 + low;
  if (high >= 2 ** 21 || headerLength > bytes.length - 8) {
    fail(`header length ${high >= 2 ** 21 ? `${view.getBigUint64(0, true)}` : headerLength} exceeds the ${bytes.length - 8} bytes after the length field (truncated or not a safetensors file)`);
  }
  if (headerLength < 2) fail(`header length ${headerLength} is too small for a JSON object`);

  let headerText = '';
  try {
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch (error) {
    fail('header is not valid UTF-8', error);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch (error) {
    fail(`header is not valid JSON (${(error as Error).message})`, error);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    fail(`header must be a JSON object, got ${describeValue(header)}`);
  }

  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: { name: string; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (entry === null) continue;
      if (typeof entry !== 'object' || Array.isArray(entry)) fail(`"${METADATA_KEY}" must be an object of strings, got ${describeValue(entry)}`);
      for (const [key, value] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof value !== 'string') fail(`metadata "${key}" must be a string, got ${describeValue(value)}`);
        metadata[key] = value as string;
      }
      continue;
    }
    const tensorFail = (what: string): never => fail(`tensor ${JSON.stringify(name)}: ${what}`);
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      tensorFail(`expected {dtype, shape, data_offsets}, got ${describeValue(entry)}`);
    }
    const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
    if (dtype !== 'F32') {
      tensorFail(`dtype ${describeValue(dtype)} is not supported (only F32; convert with tensor.float() before saving)`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      tensorFail(`shape must be an array of non-negative integers, got ${describeValue(shape)}`);
    }
    if (
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      tensorFail(`data_offsets must be [begin, end] non-negative integers, got ${describeValue(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end < begin) tensorFail(`data_offsets [${begin}, ${end}] end before begin`);
    if (end > dataLength) tensorFail(`data_offsets [${begin}, ${end}] run past the ${dataLength}-byte data buffer (truncated file?)`);
    const size = (shape as number[]).reduce((n, d) => n * d, 1);
    if (end - begin !== size * 4) {
      tensorFail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes but shape [${(shape as number[]).join(',')}] of F32 needs ${size * 4}`);
    }
    tensors.push({ name, shape: shape as number[], begin, end });
  }

  // Sorted by position, the tensors must tile the data buffer: each starts where the previous
  // ended (no gap, no overlap) and the last ends at the end of the file.
  // Empty tensors share an offset with their neighbour and the header is a JSON object (JSON.parse
  // lists integer-like keys first), so their order is not in the file: break ties by name.
  const ordered = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let expectedBegin = 0;
  for (let i = 0; i < ordered.length; i++) {
    const t = ordered[i];
    if (t.begin < expectedBegin) {
      fail(`tensor ${JSON.stringify(t.name)} data_offsets [${t.begin}, ${t.end}] overlap tensor ${JSON.stringify(ordered[i - 1].name)} [${ordered[i - 1].begin}, ${ordered[i - 1].end}]`);
    }
    if (t.begin > expectedBegin) {
      fail(`${t.begin - expectedBegin} unused bytes in the data buffer at [${expectedBegin}, ${t.begin}) before tensor ${JSON.stringify(t.name)}`);
    }
    expectedBegin = t.end;
  }
  if (expectedBegin !== dataLength) {
    fail(`the tensors cover ${expectedBegin} bytes but the data buffer has ${dataLength} (trailing bytes or a wrong header)`);
  }

  const weights: Weights = new Map();
  for (const t of ordered) {
    weights.set(t.name, { shape: [...t.shape], data: bytesToFloat32(bytes.subarray(dataStart + t.begin, dataStart + t.end)) });
  }
  return { weights, metadata };
}
