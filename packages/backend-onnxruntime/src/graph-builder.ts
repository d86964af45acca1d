/**
 * A small helper that assembles an ONNX GraphProto (nodes, initializers, typed inputs/outputs)
 * with fresh, readable value names. Encoding is left to the generated protobufjs code.
 */
import { onnx, floatsToRaw } from './proto.js';
import type { onnxTypes } from './proto.js';

export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] };

export const int = (i: number): Attr => ({ i });
export const float = (f: number): Attr => ({ f });
export const ints = (v: number[]): Attr => ({ ints: v });

export type Dim = number | string;

const { AttributeType } = onnx.AttributeProto;
export const DataType = onnx.TensorProto.DataType;

function attribute(name: string, a: Attr): onnxTypes.IAttributeProto {
  if ('i' in a) return { name, type: AttributeType.INT, i: a.i };
  if ('f' in a) return { name, type: AttributeType.FLOAT, f: a.f };
  if ('s' in a) return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.s) };
  if ('ints' in a) return { name, type: AttributeType.INTS, ints: a.ints };
  return { name, type: AttributeType.FLOATS, floats: a.floats };
}

export function valueInfo(name: string, elemType: number, dims: Dim[] | null): onnxTypes.IValueInfoProto {
  const tensorType: onnxTypes.TypeProto.ITensor = { elemType };
  if (dims !== null) {
    tensorType.shape = { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) };
  }
  return { name, type: { tensorType } };
}

export class GraphBuilder {
  readonly nodes: onnxTypes.INodeProto[] = [];
  readonly initializers: onnxTypes.ITensorProto[] = [];
  readonly inputs: onnxTypes.IValueInfoProto[] = [];
  readonly outputs: onnxTypes.IValueInfoProto[] = [];
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();

  /** Reserves `name` exactly (graph inputs/outputs, parameters); throws on a clash. */
  reserve(name: string): string {
    if (this.used.has(name)) throw new Error(`ONNX graph: value name "${name}" used twice`);
    this.used.add(name);
    return name;
  }

  /** A new unique value name starting with `prefix`. */
  fresh(prefix: string): string {
    let n = this.counters.get(prefix) ?? 0;
    let name: string;
    do {
      name = n === 0 ? prefix : `${prefix}_${n}`;
      n++;
    } while (this.used.has(name));
    this.counters.set(prefix, n);
    this.used.add(name);
    return name;
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(this.reserve(name), elemType, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, elemType: number, dims: Dim[] | null): void {
    this.outputs.push(valueInfo(name, elemType, dims));
  }

  /**
   * Adds a node. `outputs` are value names (reserved here unless already reserved via
   * `reserve`), or a prefix count: node(..., { outputs: 2 }) makes two fresh names.
   */
  node(
    opType: string,
    inputs: string[],
    attrs: Record<string, Attr> = {},
    options: { outputs?: string[] | number; prefix?: string; domain?: string } = {},
  ): string[] {
    const prefix = options.prefix ?? opType.charAt(0).toLowerCase() + opType.slice(1);
    let outputs: string[];
    if (Array.isArray(options.outputs)) {
      outputs = options.outputs.map((o) => (this.used.has(o) ? o : this.reserve(o)));
    } else {
      const count = options.outputs ?? 1;
      outputs = Array.from({ length: count }, () => this.fresh(prefix));
    }
    this.nodes.push({
      name: this.fresh(`node_${opType}`),
      opType,
      ...(options.domain ? { domain: options.domain } : {}),
      input: inputs,
      output: outputs,
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outputs;
  }

  /** Single-output node; returns the output name (`out` if given, else fresh). */
  op(opType: string, inputs: string[], attrs: Record<string, Attr> = {}, out?: string): string {
    return this.node(opType, inputs, attrs, out === undefined ? {} : { outputs: [out] })[0];
  }

  /** A float32 initializer (constant or parameter value). */
  floatTensor(name: string, dims: number[], data: Float32Array | number[], exact = false): string {
    const values = data instanceof Float32Array ? data : Float32Array.from(data);
    const n = exact ? this.reserve(name) : this.fresh(name);
    this.initializers.push({ name: n, dims, dataType: DataType.FLOAT, rawData: floatsToRaw(values) });
    return n;
  }

  /** An int64 initializer (shapes, axes, indices). */
  int64Tensor(name: string, dims: number[], data: number[]): string {
    const n = this.fresh(name);
    this.initializers.push({ name: n, dims, dataType: DataType.INT64, int64Data: data });
    return n;
  }

  graph(name: string, docString?: string): onnxTypes.IGraphProto {
    return {
      name,
      docString: docString ?? '',
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    };
  }
}

export interface ModelOptions {
  opset: number;
  /** Opsets of other operator domains the graph uses (e.g. onnxruntime's com.microsoft.nchwc). */
  domains?: Record<string, number>;
  producerVersion: string;
  docString?: string;
  metadata?: Record<string, string>;
}

/** Wraps a graph into a ModelProto and encodes it. */
export function encodeModel(graph: onnxTypes.IGraphProto, options: ModelOptions): Uint8Array {
  const model: onnxTypes.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: options.opset }, ...Object.entries(options.domains ?? {}).map(([domain, version]) => ({ domain, version }))],
    producerName: '@lenet/backend-onnxruntime',
    producerVersion: options.producerVersion,
    docString: options.docString ?? '',
    graph,
    metadataProps: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  const err = onnx.ModelProto.verify(model);
  if (err) throw new Error(`ONNX model does not verify against onnx.proto: ${err}`);
  return onnx.ModelProto.encode(onnx.ModelProto.fromObject(model)).finish();
}
