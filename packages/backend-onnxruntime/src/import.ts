/**
 * importOnnx: reads an ONNX model back into a spec and canonical weights.
 *
 * The spec is always rebuilt by walking the graph's node chain (Conv/activation/pool/Flatten/
 * Gemm), and parameters are taken from the initializers each Conv/Gemm node uses, whatever they
 * are called (e.g. a LeNet exported by torch.onnx). Every attribute is checked: a value the
 * importer does not implement (Gemm alpha=0, dilations, auto_pad, ceil_mode, ...) is rejected by
 * node and attribute instead of being ignored. The `lenet.spec` metadata written by exportOnnx
 * supplies the model's name and must agree with the graph layer by layer.
 */
import type { LayerSpec, ModelSpec, Tensor, Weights } from '@lenet/model';
import { SpecError, WeightsError, describeLayer, paramInfos, validateSpec, validateWeights } from '@lenet/model';
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

/** An attribute's value as text for messages: 0, 1.5, [1, 1], "SAME_UPPER". */
function attrText(a: onnxTypes.IAttributeProto): string {
  if (a.ints && a.ints.length) return `[${a.ints.map(toNumber).join(', ')}]`;
  if (a.floats && a.floats.length) return `[${a.floats.join(', ')}]`;
  if (a.s && a.s.length) return JSON.stringify(new TextDecoder().decode(a.s));
  if (a.type === onnx.AttributeProto.AttributeType.FLOAT || (a.f !== undefined && a.f !== null && a.f !== 0)) return String(a.f ?? 0);
  if (a.i !== undefined && a.i !== null) return String(toNumber(a.i));
  if (a.f !== undefined && a.f !== null) return String(a.f);
  return '(empty)';
}

type AttrCheck = (a: onnxTypes.IAttributeProto) => boolean;
const intIs = (v: number): AttrCheck => (a) => a.i !== undefined && a.i !== null && toNumber(a.i) === v;
const floatIs = (v: number): AttrCheck => (a) => (a.f ?? 0) === v;
const intsAll = (v: number): AttrCheck => (a) => (a.ints ?? []).map(toNumber).every((x) => x === v);
const stringIn = (...v: string[]): AttrCheck => (a) => v.includes(new TextDecoder().decode(a.s ?? new Uint8Array()));
const any: AttrCheck = () => true;

/**
 * Every attribute each operator may carry, with the values this importer implements; anything
 * else (another attribute, or a value it would silently ignore) is rejected by node and name.
 * kernel_shape/strides/pads are checked structurally in specFromGraph.
 */
const SUPPORTED_ATTRS: Record<string, Record<string, [AttrCheck, string]>> = {
  Conv: {
    kernel_shape: [any, ''],
    strides: [any, ''],
    pads: [any, ''],
    dilations: [intsAll(1), '[1, 1]'],
    group: [intIs(1), '1'],
    auto_pad: [stringIn('NOTSET', ''), '"NOTSET"'],
  },
  Sigmoid: {},
  Relu: {},
  Tanh: {},
  AveragePool: {
    kernel_shape: [any, ''],
    strides: [any, ''],
    pads: [intsAll(0), '[0, 0, 0, 0]'],
    auto_pad: [stringIn('NOTSET', 'VALID', ''), '"NOTSET"'],
    ceil_mode: [intIs(0), '0'],
    // Without padding, counting the padding or not gives the same averages.
    count_include_pad: [(a) => intIs(0)(a) || intIs(1)(a), '0 or 1 (with zero pads)'],
  },
  MaxPool: {
    kernel_shape: [any, ''],
    strides: [any, ''],
    pads: [intsAll(0), '[0, 0, 0, 0]'],
    auto_pad: [stringIn('NOTSET', 'VALID', ''), '"NOTSET"'],
    ceil_mode: [intIs(0), '0'],
    dilations: [intsAll(1), '[1, 1]'],
    storage_order: [intIs(0), '0'],
  },
  Flatten: { axis: [intIs(1), '1'] },
  Gemm: {
    alpha: [floatIs(1), '1'],
    beta: [floatIs(1), '1'],
    transA: [intIs(0), '0'],
    transB: [intIs(1), '1'],
  },
};

/** `node "name" (index i, Op)`: how messages name a node. */
function nodeLabel(node: onnxTypes.INodeProto, idx: number): string {
  return `node ${node.name ? `"${node.name}" ` : ''}(#${idx}, ${node.opType ?? '?'})`;
}

/** Rebuilds the spec from a chain Conv/act/pool/Flatten/Gemm; returns canonical name -> initializer name. */
function specFromGraph(
  graph: onnxTypes.IGraphProto,
  inits: Map<string, Tensor>,
  source: string,
  hasMetadata: boolean,
): { spec: ModelSpec; names: Map<string, string>; layerNodes: string[] } {
  const fail = (msg: string): never => {
    throw new OnnxFormatError(
      source,
      hasMetadata ? `the graph is not a model this importer implements: ${msg}` : `cannot rebuild the model spec from the graph (no "${META_SPEC}" metadata): ${msg}`,
    );
  };
  const inputs = (graph.input ?? []).filter((i) => !inits.has(i.name ?? ''));
  if (inputs.length !== 1) fail(`expected exactly one non-initializer graph input, found ${inputs.length}`);
  const dims = inputs[0].type?.tensorType?.shape?.dim ?? [];
  if (dims.length !== 4) fail(`input "${inputs[0].name}" must have rank 4 [N,C,H,W], has rank ${dims.length}`);
  const chw = dims.slice(1).map((d) => (d.dimValue !== undefined && d.dimValue !== null ? toNumber(d.dimValue) : 0));
  if (chw.some((d) => !(d > 0))) fail(`input "${inputs[0].name}" needs fixed C, H, W dimensions`);

  const layers: LayerSpec[] = [];
  const layerNodes: string[] = [];
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
    const at = nodeLabel(node, idx);
    const param = (i: number): Tensor => {
      const t = inits.get(node.input?.[i] ?? '');
      if (!t) return fail(`${at}: input ${i} must be an initializer`);
      return t;
    };
    const supported = SUPPORTED_ATTRS[op];
    if (!supported) fail(`${at}: unsupported operator`);
    for (const a of node.attribute ?? []) {
      const rule = supported[a.name ?? ''];
      if (!rule) fail(`${at}: attribute ${a.name}=${attrText(a)} is not implemented (this importer models ${Object.keys(supported).join(', ') || 'no attributes'} for ${op})`);
      else if (!rule[0](a)) fail(`${at}: attribute ${a.name}=${attrText(a)} is not implemented (expected ${rule[1]})`);
    }
    if (op === 'Conv') {
      const w = param(1);
      if ((node.input ?? []).length < 3) fail(`${at}: conv without bias is not supported`);
      const k = w.shape[2];
      if (w.shape[3] !== k) fail(`${at}: only square kernels are supported`);
      const ks = intsAttr(node, 'kernel_shape');
      if (ks && (ks.length !== 2 || ks[0] !== k || ks[1] !== k)) fail(`${at}: attribute kernel_shape=[${ks.join(', ')}] does not match the weight's ${k}x${k} kernel`);
      const strides = intsAttr(node, 'strides') ?? [1, 1];
      const pads = intsAttr(node, 'pads') ?? [0, 0, 0, 0];
      if (strides.length !== 2 || strides[0] !== strides[1]) fail(`${at}: attribute strides=[${strides.join(', ')}] is not implemented (expected two equal strides)`);
      if (pads.length !== 4 || pads.some((p) => p !== pads[0])) fail(`${at}: attribute pads=[${pads.join(', ')}] is not implemented (expected four equal pads)`);
      layers.push({ type: 'conv2d', outChannels: w.shape[0], kernelSize: k, stride: strides[0], padding: pads[0] });
      paramInits.push(node.input![1], node.input![2]);
    } else if (op in ACTIVATIONS) {
      layers.push({ type: 'activation', fn: ACTIVATIONS[op] });
    } else if (op === 'AveragePool' || op === 'MaxPool') {
      const k = intsAttr(node, 'kernel_shape') ?? [];
      const strides = intsAttr(node, 'strides') ?? k;
      if (k.length !== 2 || k[0] !== k[1] || strides.length !== 2 || strides[0] !== strides[1]) {
        fail(`${at}: attribute kernel_shape=[${k.join(', ')}] / strides=[${strides.join(', ')}] is not implemented (expected a square 2-D window)`);
      }
      layers.push({ type: 'pool2d', mode: op === 'MaxPool' ? 'max' : 'avg', kernelSize: k[0], stride: strides[0] });
    } else if (op === 'Flatten') {
      if ((intAttr(node, 'axis') ?? 1) !== 1) fail(`${at}: Flatten must use axis 1`);
      layers.push({ type: 'flatten' });
    } else if (op === 'Gemm') {
      const w = param(1);
      if ((intAttr(node, 'transB') ?? 0) !== 1) fail(`${at}: attribute transB=${intAttr(node, 'transB') ?? 0} is not implemented (expected 1)`);
      if ((node.input ?? []).length < 3) fail(`${at}: dense without bias is not supported`);
      layers.push({ type: 'dense', units: w.shape[0] });
      paramInits.push(node.input![1], node.input![2]);
    }
    layerNodes.push(at);
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
  return { spec, names, layerNodes };
}

/** The graph decides; metadata that disagrees with it is an error naming the node. */
function checkMetadataAgainstGraph(meta: ModelSpec, graph: ModelSpec, layerNodes: string[], source: string): void {
  const what = `metadata "${META_SPEC}" disagrees with the graph`;
  if (meta.inputShape.join(',') !== graph.inputShape.join(',')) {
    throw new OnnxFormatError(source, `${what}: input shape: expected [${graph.inputShape.join(', ')}] (graph), got [${meta.inputShape.join(', ')}] (metadata)`);
  }
  const n = Math.max(meta.layers.length, graph.layers.length);
  for (let i = 0; i < n; i++) {
    const m = meta.layers[i];
    const g = graph.layers[i];
    const mk = m ? describeLayer(m) : '(no layer)';
    const gk = g ? describeLayer(g) : '(no node)';
    if (mk !== gk) {
      throw new OnnxFormatError(source, `${what} at layer ${i}, ${layerNodes[i] ?? 'after the last node'}: expected ${gk} (graph), got ${mk} (metadata)`);
    }
  }
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

  // The graph is what runs: the spec always comes from it. Metadata only names the model and
  // must agree with the graph (a file whose metadata says sigmoid but whose graph says Relu is
  // rejected, not evaluated as sigmoid).
  const hasMetadata = metadata[META_SPEC] !== undefined;
  const fromGraph = specFromGraph(graph, floatInits, source, hasMetadata);
  let spec: ModelSpec = fromGraph.spec;
  const names: Map<string, string> = fromGraph.names;
  let specSource: ImportedOnnx['specSource'] = 'graph';
  if (hasMetadata) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(metadata[META_SPEC]);
    } catch (e) {
      throw new OnnxFormatError(source, `metadata "${META_SPEC}" is not valid JSON: ${(e as Error).message}`, { cause: e });
    }
    let meta: ModelSpec;
    try {
      meta = validateSpec(parsed, `metadata "${META_SPEC}"`); // OnnxFormatError adds the file
    } catch (e) {
      if (e instanceof SpecError) throw new OnnxFormatError(source, e.message, { cause: e });
      throw e;
    }
    checkMetadataAgainstGraph(meta, fromGraph.spec, fromGraph.layerNodes, source);
    spec = meta;
    specSource = 'metadata';
  }

  for (const p of paramInfos(spec)) {
    const initName = names.get(p.name)!;
    const t = inits.get(initName);
    if (!t) throw new OnnxFormatError(source, `parameter "${p.name}" [${p.shape.join(', ')}] has no initializer "${initName}" in the graph`);
    decoded.set(p.name, floatInits.get(initName) ?? tensorOf(t, source));
  }
  try {
    validateWeights(spec, decoded); // no source: OnnxFormatError names the file once
  } catch (e) {
    if (e instanceof WeightsError) throw new OnnxFormatError(source, e.message, { cause: e });
    throw e;
  }
  return { spec, weights: decoded, metadata, specSource };
}
