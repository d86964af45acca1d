/**
 * The ONNX protobuf schema, as static protobufjs code generated from onnx.proto of ONNX 1.10
 * (IR version 8), vendored in ./onnx-pb (from the onnx-proto package, MIT) so that installs
 * carry one protobufjs and no second copy with its own Node typings.
 */
import { onnx as onnxRoot } from './onnx-pb/onnx.js';
import type { onnx as OnnxNamespace } from './onnx-pb/onnx.js';

export const onnx: typeof OnnxNamespace = onnxRoot;
export type { OnnxNamespace as onnxTypes };

/** Highest IR version the exported files declare (ONNX 1.10 .. 1.12 checkers accept it). */
export const IR_VERSION = 8;

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 values -> little-endian bytes for TensorProto.raw_data. */
export function floatsToRaw(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  if (littleEndian) {
    out.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  }
  return out;
}

/** Little-endian raw_data bytes -> float32 values (copied, aligned). */
export function rawToFloats(raw: Uint8Array): Float32Array {
  const out = new Float32Array(raw.byteLength / 4);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** int64 fields decode as numbers or protobufjs Long objects depending on the environment. */
export function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v !== null && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  if (typeof v === 'string') return Number(v);
  throw new TypeError(`expected an integer, got ${String(v)}`);
}
