/**
 * importOnnx: reads an ONNX model back into a spec and canonical weights.
 *
 * For files written by exportOnnx the spec comes from the `lenet.spec` metadata and each
 * parameter from the initializer with its canonical name. Without that metadata (e.g. a
 * LeNet exported by torch.onnx as Conv/activation/pool/Flatten/Gemm) the spec is rebuilt by
 * walking the graph's node chain, and parameters are taken from the initializers each
 * Conv/Gemm node uses, whatever they are called.
 */
import type { LayerSpec, ModelSpec, Tensor, Weights } from '@lenet/model';
import { SpecError, WeightsError, paramInfos, validateSpec, validateWeights } from '@lenet/model';
import { OnnxFormatError } from './errors.js';
import { META_SPEC } from './export.js';
import { onnx, rawToFloats, toNumber } from './proto.js';
import type { onnxTypes } from './proto.js';

export interface ImportedOnnx {
  spec: ModelSpec;
  weights: Weights;
  /** metadata_props of the file. */
  metadata: Record<string, string>;
  /** How the spec was obtained. */
  specSource: 'metadata' | 'graph';
}

const ACTIVATIONS: Record<string, 'sigmoid' | 'relu' | 'tanh'> = { Sigmoid: 'sigmoid', Relu: 'relu', Tanh: 'tanh' };

function decodeModel(bytes: Uint8Array, source: string): onnxTypes.ModelProto {
  if (!(bytes instanceof Uint8Array)) throw new OnnxFormatError(source, `expected the bytes of an ONNX file (Uint8Array), got ${typeof bytes}`);
  if (bytes.byteLength === 0) throw new OnnxFormatError(source, 'file is empty; expected an ONNX ModelProto');
  let model: onnxTypes.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(source, `not an ONNX model (protobuf decoding failed: ${(e as Error).message})`, { cause: e });
  }
  const ir = toNumber(model.irVersion ?? 0);
  if (ir < 3 || ir > 10) throw new OnnxFormatError(source, `not an ONNX model: ir_version is ${ir} (expected 3..10)`);
  if (!model.graph || (model.graph.node ?? []).length === 0) throw new OnnxFormatError(source, 'ONNX model has no graph nodes');
  return model;
}

function tensorOf(t: onnxTypes.ITensorProto, source: string): Tensor {
  const name = t.name ?? '<unnamed>';
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) {
    throw new OnnxFormatError(source, `initializer "${name}" has data type ${t.dataType}, expected FLOAT (1)`);
  }
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new OnnxFormatError(source, `initializer "${name}" uses external data, which is not supported`);
  }
  const shape = (t.dims ?? []).map(toNumber);
  const size = shape.reduce((a, b) => a * b, 1);
  let data: Float32Array;
  if (t.rawData && t.rawData.byteLength > 0) {
    if (t.rawData.byteLength !== size * 4) {
      throw new OnnxFormatError(source, `initializer "${name}" has ${t.rawData.byteLength} bytes of raw data, expected ${size * 4} for shape [${shape.join(', ')}]`);
    }
    data = rawToFloats(t.rawData);
  } else {
    const floats = t.floatData ?? [];
    if (floats.length !== size) {
      throw new OnnxFormatError(source, `initializer "${name}" has ${floats.length} values, expected ${size} for shape [${shape.join(', ')}]`);
    }
    data = Float32Array.from(floats);
  }
  return { shape, data };
}

function attrs(node: onnxTypes.INodeProto): Map<string, onnxTypes.IAttributeProto> {
  return new Map((node.attribute ?? []).map((a) => [a.name ?? '', a]));
}

function intsAttr(node: onnxTypes.INodeProto, name: string): number[] | undefined {
  const a = attrs(node).get(name);
  return a ? (a.ints ?? []).map(toNumber) : undefined;
}

function intAttr(node: onnxTypes.INodeProto, name: string): number | undefined {
  const a = attrs(node).get(name);
  return a && a.i !== undefined && a.i !== null ? toNumber(a.i) : undefined;
}

/** Rebuilds the spec from a chain Conv/act/pool/Flatten/Gemm; returns canonical name -> initializer name. */
function specFromGraph(graph: onnxTypes.IGraphProto, inits: Map<string, Tensor>, source: string): { spec: ModelSpec; names: Map<string, string> } {
  const fail = (msg: string): never => {
    throw new OnnxFormatError(source, `cannot rebuild the model spec from the graph (no "${META_SPEC}" metadata): ${msg}`);
  };
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name ?? ''));
  if (inputs.length !== 1) fail(`expected exactly one non-initializer graph input, found ${inputs.length}`);
  const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) fail(`input "${inputs[0].name}" must have rank 4 [N,C,H,W], has rank ${dims.length}`);
  const chw = dims.slice(1).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0));
  if (chw.some((d) => !(d > 0))) fail(`input "${inputs[0].name}" needs fixed C, H, W dimensions`);

  const layers: LayerSpec[] = [];
  const paramInits: string[] = [];
  let current = inputs[0].name ?? '';
  const nodes = graph.node ?? [];
  const used = new Set<number>();
  for (;;) {
    const idx = nodes.findIndex((n, i) => !used.has(i) && (n.input ?? []).includes(current));
    if (idx < 0) break;
    used.add(idx);
    const node = nodes[idx];
    const op = node.opType ?? '';
    const at = `node ${idx} (${op})`;
    const param = (i: number): Tensor => {
      const t = inits.get(node.input?.[i] ?? '');
      if (!t) return fail(`${at}: input ${i} must be an initializer`);
      return t;
    };
    if (op === 'Conv') {
      const w = param(1);
      if ((node.input ?? []).length < 3) fail(`${at}: conv without bias is not supported`);
      const k = w.shape[2];
      if (w.shape[3] !== k) fail(`${at}: only square kernels are supported`);
      const strides = intsAttr(node, 'strides') ?? [1, 1];
      const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
      if (strides[0] !== strides[1] || pads.some((p) => p !== pads[0])) fail(`${at}: strides and pads must be symmetric`);
      if ((intAttr(node, 'group') ?? 1) !== 1 || (intsAttr(node, 'dilations') ?? [1, 1]).some((d) => d !== 1)) fail(`${at}: groups/dilations are not supported`);
      layers.push({ type: 'conv2d', outChannels: w.shape[0], kernelSize: k, stride: strides[0], padding: pads[0] });
      paramInits.push(node.input![1], node.input![2]);
    } else if (op in ACTIVATIONS) {
      layers.push({ type: 'activation', fn: ACTIVATIONS[op] });
    } else if (op === 'AveragePool' || op === 'MaxPool') {
      const k = intsAttr(node, 'kernel_shape') ?? [];
      const strides = intsAttr(node, 'strides') ?? k;
      if (k.length !== 2 || k[0] !== k[1] || strides[0] !== strides[1]) fail(`${at}: only square 2-D windows are supported`);
      if ((intsAttr(node, 'pads') ?? [0]).some((p) => p !== 0)) fail(`${at}: padded pooling is not supported`);
      layers.push({ type: 'pool2d', mode: op === 'MaxPool' ? 'max' : 'avg', kernelSize: k[0], stride: strides[0] });
    } else if (op === 'Flatten') {
      if ((intAttr(node, 'axis') ?? 1) !== 1) fail(`${at}: Flatten must use axis 1`);
      layers.push({ type: 'flatten' });
    } else if (op === 'Gemm') {
      const w = param(1);
      if ((intAttr(node, 'transB') ?? 0) !== 1 || (intAttr(node, 'transA') ?? 0) !== 0) fail(`${at}: expected Gemm with transA=0, transB=1`);
      if ((node.input ?? []).length < 3) fail(`${at}: dense without bias is not supported`);
      layers.push({ type: 'dense', units: w.shape[0] });
      paramInits.push(node.input![1], node.input![2]);
    } else {
      fail(`${at}: unsupported operator`);
    }
    current = node.output?.[0] ?? '';
  }
  if (!(graph.output ?? []).some((o) => o.name === current)) fail(`the node chain from the input does not end at a graph output (stopped at "${current}")`);
  let spec: ModelSpec;
  try {
    spec = validateSpec({ name: graph.name || 'imported', inputShape: chw as [number, number, number], layers }, source);
  } catch (e) {
    return fail((e as Error).message);
  }
  const names = new Map<string, string>();
  paramInfos(spec).forEach((p, i) => names.set(p.name, paramInits[i]));
  return { spec, names };
}

/** Reads an ONNX model (bytes) back to spec + canonical weights. `source` names it in errors. */
export function importOnnx(bytes: Uint8Array, source = '<bytes>'): ImportedOnnx {
  const model = decodeModel(bytes, source);
  const graph = model.graph!;
  const metadata: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) metadata[p.key ?? ''] = p.value ?? '';

  const inits = new Map<string, onnxTypes.ITensorProto>();
  for (const t of graph.initializer ?? []) inits.set(t.name ?? '', t);
  const decoded = new Map<string, Tensor>();
  const floatInits = new Map<string, Tensor>();
  for (const [name, t] of inits) if (t.dataType === onnx.TensorProto.DataType.FLOAT) floatInits.set(name, tensorOf(t, source));

  let spec: ModelSpec;
  let names: Map<string, string>;
  let specSource: ImportedOnnx['specSource'];
  if (metadata[META_SPEC] !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata[META_SPEC]);
    } catch (e) {
      throw new OnnxFormatError(source, `metadata "${META_SPEC}" is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    try {
      spec = validateSpec(parsed, `${source} metadata "${META_SPEC}"`);
    } catch (e) {
      if (e instanceof SpecError) throw new OnnxFormatError(source, e.message, { cause: e });
      throw e;
    }
    names = new Map(paramInfos(spec).map((p) => [p.name, p.name]));
    specSource = 'metadata';
  } else {
    ({ spec, names } = specFromGraph(graph, floatInits, source));
    specSource = 'graph';
  }

  for (const p of paramInfos(spec)) {
    const initName = names.get(p.name)!;
    const t = inits.get(initName);
    if (!t) throw new OnnxFormatError(source, `parameter "${p.name}" [${p.shape.join(', ')}] has no initializer "${initName}" in the graph`);
    decoded.set(p.name, floatInits.get(initName) ?? tensorOf(t, source));
  }
  try {
    validateWeights(spec, decoded, source);
  } catch (e) {
    if (e instanceof WeightsError) throw new OnnxFormatError(source, e.message, { cause: e });
    throw e;
  }
  return { spec, weights: decoded, metadata, specSource };
}
