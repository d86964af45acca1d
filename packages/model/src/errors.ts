/** Typed errors of @lenet/model. Each names where the problem is (file, layer, parameter). */

/** An invalid model spec: bad structure, unknown layer, or shapes that do not fit. */
export class SpecError extends Error {
  /** File (or other origin) the spec came from, when known. */
  readonly source?: string;
  /** Index in spec.layers of the offending layer, when the problem is in a layer. */
  readonly layerIndex?: number;

  constructor(message: string, details: { source?: string; layerIndex?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SpecError';
    if (details.source !== undefined) this.source = details.source;
    if (details.layerIndex !== undefined) this.layerIndex = details.layerIndex;
  }
}

/** Weights that do not match a spec (missing/extra parameter, wrong shape, non-finite value). */
export class WeightsError extends Error {
  /** File (or other origin) the weights came from, when known. */
  readonly source?: string;
  /** The offending parameter name, when one parameter is at fault. */
  readonly param?: string;

  constructor(message: string, details: { source?: string; param?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'WeightsError';
    if (details.source !== undefined) this.source = details.source;
    if (details.param !== undefined) this.param = details.param;
  }
}

/** A malformed or unsupported safetensors file. */
export class SafetensorsError extends Error {
  /** File (or other origin) of the bytes, when known. */
  readonly source?: string;

  constructor(message: string, details: { source?: string; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SafetensorsError';
    if (details.source !== undefined) this.source = details.source;
  }
}

/** "file.json: " or "" — the prefix every message starts with. */
export function sourcePrefix(source: string | undefined): string {
  return source === undefined || source === '' ? '' : `${source}: `;
}

/** Short, safe rendering of an arbitrary value for error messages. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing (missing)';
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (Array.isArray(value)) {
    try {
      const text = JSON.stringify(value);
      return text.length > 80 ? `an array of length ${value.length}` : text;
    } catch {
      return `an array of length ${value.length}`;
    }
  }
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  if (value instanceof Map) return 'a Map';
  return typeof value === 'function' ? 'a function' : 'an object';
}
