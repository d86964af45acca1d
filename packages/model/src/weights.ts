/** Checking, copying and (un)flattening named weights against a spec. */
import { WeightsError, describeValue, sourcePrefix } from './errors.js';
import { paramInfos } from './spec.js';
import type { ModelSpec, ParamInfo, Tensor, Weights } from './types.js';

function shapeText(shape: readonly unknown[]): string {
  return `[${shape.join(',')}]`;
}

function sameShape(a: readonly number[], b: readonly unknown[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Elements of a shape (product of dims; 1 for a scalar []). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((n, d) => n * d, 1);
}

/** Structural checks shared by validateWeights and flattenWeights; returns the spec's params. */
function checkStructure(spec: ModelSpec, weights: Weights, source: string | undefined, checkFinite: boolean): ParamInfo[] {
  const infos = paramInfos(spec);
  const prefix = `${sourcePrefix(source)}weights do not match model "${spec.name}": `;
  if (!(weights instanceof Map)) {
    throw new WeightsError(`${prefix}expected a Map<string, Tensor>, got ${describeValue(weights)}`, { source });
  }
  const missing = infos.filter((p) => !weights.has(p.name));
  if (missing.length > 0) {
    const list = missing.map((p) => `${p.name} ${shapeText(p.shape)}`).join(', ');
    throw new WeightsError(`${prefix}missing parameter${missing.length > 1 ? 's' : ''} ${list}`, { source, param: missing[0].name });
  }
  const expected = new Set(infos.map((p) => p.name));
  const extra = [...weights.keys()].filter((k) => !expected.has(k));
  if (extra.length > 0) {
    throw new WeightsError(
      `${prefix}unexpected parameter${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} ` +
        `(the model has ${infos.map((p) => p.name).join(', ')})`,
      { source, param: String(extra[0]) },
    );
  }
  for (const p of infos) {
    const t = weights.get(p.name) as Tensor | undefined;
    const fail = (what: string): never => {
      throw new WeightsError(`${prefix}parameter "${p.name}": ${what}`, { source, param: p.name });
    };
    if (typeof t !== 'object' || t === null) fail(`expected a tensor {shape, data}, got ${describeValue(t)}`);
    const tensor = t as Tensor;
    if (!Array.isArray(tensor.shape)) fail(`expected shape ${shapeText(p.shape)}, got ${describeValue(tensor.shape)}`);
    if (!sameShape(p.shape, tensor.shape)) fail(`expected shape ${shapeText(p.shape)}, got ${shapeText(tensor.shape)}`);
    if (!(tensor.data instanceof Float32Array)) fail(`data must be a Float32Array, got ${describeValue(tensor.data)}`);
    const size = shapeSize(p.shape);
    if (tensor.data.length !== size) fail(`shape ${shapeText(p.shape)} needs ${size} values, data has ${tensor.data.length}`);
    if (checkFinite) {
      const data = tensor.data;
      for (let i = 0; i < data.length; i++) {
        const v = data[i];
        // v - v is 0 for finite v and NaN for NaN/±Infinity: one branch per element.
        if (v - v !== 0) fail(`value ${v} at flat index ${i} is not finite`);
      }
    }
  }
  return infos;
}

/**
 * Checks that `weights` holds exactly the spec's parameters, each with the exact shape, a
 * Float32Array of the right length, and only finite values. Throws WeightsError naming `source`,
 * the parameter, and what was expected vs found.
 */
export function validateWeights(spec: ModelSpec, weights: Weights, source?: string): void {
  checkStructure(spec, weights, source, true);
}

/** Deep copy (new shapes and data buffers), preserving order. */
export function cloneWeights(w: Weights): Weights {
  const out: Weights = new Map();
  for (const [name, t] of w) out.set(name, { shape: [...t.shape], data: t.data.slice() });
  return out;
}

/**
 * All parameters concatenated in canonical order (conv1.weight, conv1.bias, …), each row-major.
 * Checks presence and shapes (not finiteness, so diverged weights can still be inspected).
 */
export function flattenWeights(spec: ModelSpec, w: Weights): Float32Array {
  const infos = checkStructure(spec, w, undefined, false);
  const flat = new Float32Array(infos.reduce((n, p) => n + shapeSize(p.shape), 0));
  let offset = 0;
  for (const p of infos) {
    const data = w.get(p.name)!.data;
    flat.set(data, offset);
    offset += data.length;
  }
  return flat;
}

/**
 * Inverse of flattenWeights: splits `flat` (length = total parameters) into canonical-order
 * named tensors. The tensors are copies; they do not alias `flat`. Float64 input is rounded.
 */
export function unflattenWeights(spec: ModelSpec, flat: ArrayLike<number>): Weights {
  const infos = paramInfos(spec);
  const total = infos.reduce((n, p) => n + shapeSize(p.shape), 0);
  if (flat === null || typeof flat !== 'object' || typeof flat.length !== 'number') {
    throw new WeightsError(`flat weights for model "${spec.name}" must be an array of ${total} numbers, got ${describeValue(flat)}`);
  }
  if (flat.length !== total) {
    throw new WeightsError(`flat weights for model "${spec.name}" must have ${total} values (its parameter count), got ${flat.length}`);
  }
  const out: Weights = new Map();
  let offset = 0;
  for (const p of infos) {
    const size = shapeSize(p.shape);
    const data = new Float32Array(size);
    if (ArrayBuffer.isView(flat)) {
      data.set((flat as unknown as Float32Array).subarray(offset, offset + size));
    } else {
      for (let i = 0; i < size; i++) data[i] = flat[offset + i];
    }
    out.set(p.name, { shape: [...p.shape], data });
    offset += size;
  }
  return out;
}
