/**
 * Spec validation, shape inference and the model summary (d2l's layer_summary).
 *
 * One walk over the layers (`analyze`) does everything: it checks each layer's fields, tracks the
 * activation shape, and derives the parameters, multiply-adds and labels. validateSpec,
 * inferShapes, summarize and paramInfos are thin views on it, so they can never disagree.
 */
import { SpecError, describeValue, sourcePrefix } from './errors.js';
import type { ActivationFn, LayerSpec, ModelSpec, ParamInfo, PoolMode } from './types.js';

/** One layer of a model as seen by shape inference. Shapes have no batch dimension. */
export interface LayerInfo {
  index: number;
  type: LayerSpec['type'];
  /** e.g. "conv1 Conv2d(1->6, k5, s1, p2)", "Sigmoid", "AvgPool2d(k2, s2)", "fc1 Dense(400->120)". */
  label: string;
  inputShape: number[];
  /** [C,H,W] before flatten, [features] after. */
  outputShape: number[];
  /** Trainable parameters of this layer (weight + bias elements). */
  params: number;
  /**
   * Multiply-adds per image: conv = outC*outH*outW*inC*k*k, dense = in*out. Bias additions,
   * activations, pooling and flatten count 0 (the usual convention; it gives LeNet-5 its 416,520).
   */
  macs: number;
}

export interface ModelSummary {
  spec: ModelSpec;
  layers: LayerInfo[];
  totalParams: number;
  totalMacs: number;
  inputShape: number[];
  outputShape: number[];
}

interface Analysis {
  spec: ModelSpec;
  layers: LayerInfo[];
  params: ParamInfo[];
}

const LAYER_TYPES = ['conv2d', 'activation', 'pool2d', 'flatten', 'dense'] as const;
const ACTIVATIONS: readonly ActivationFn[] = ['sigmoid', 'relu', 'tanh'];
const POOL_MODES: readonly PoolMode[] = ['avg', 'max'];
const SPEC_KEYS = ['name', 'inputShape', 'layers'];
const LAYER_KEYS: Record<LayerSpec['type'], readonly string[]> = {
  conv2d: ['type', 'name', 'outChannels', 'kernelSize', 'stride', 'padding'],
  activation: ['type', 'fn'],
  pool2d: ['type', 'mode', 'kernelSize', 'stride'],
  flatten: ['type'],
  dense: ['type', 'name', 'units'],
};
const ACTIVATION_LABELS: Record<ActivationFn, string> = { sigmoid: 'Sigmoid', relu: 'ReLU', tanh: 'Tanh' };
/** Parameter prefixes: identifiers, optionally dotted ("features.0" style, as in PyTorch). */
const PARAM_PREFIX = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$/;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !ArrayBuffer.isView(value);
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Analyses of frozenSpec() results: a frozen spec cannot change, so its analysis stays valid. */
const frozenAnalyses = new WeakMap<object, Analysis>();

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Walks the spec, validating as it goes. Throws SpecError on the first problem. */
function analyze(input: unknown, source?: string): Analysis {
  const known = typeof input === 'object' && input !== null ? frozenAnalyses.get(input) : undefined;
  if (known) return known;
  const prefix = sourcePrefix(source);
  const fail = (message: string, layerIndex?: number): never => {
    throw new SpecError(`${prefix}invalid model spec: ${message}`, { source, layerIndex });
  };

  if (!isPlainObject(input)) fail(`expected a JSON object with name, inputShape and layers, got ${describeValue(input)}`);
  const raw = input as Record<string, unknown>;
  for (const key of Object.keys(raw)) {
    if (!SPEC_KEYS.includes(key)) fail(`unknown top-level field "${key}" (allowed: ${SPEC_KEYS.join(', ')})`);
  }
  if (typeof raw.name !== 'string' || raw.name.trim() === '') {
    fail(`"name" must be a non-empty string, got ${describeValue(raw.name)}`);
  }
  const name = raw.name as string;
  const inputShape = raw.inputShape;
  if (
    !Array.isArray(inputShape) ||
    inputShape.length !== 3 ||
    !inputShape.every((d) => Number.isSafeInteger(d) && (d as number) > 0)
  ) {
    fail(`"inputShape" must be [channels, height, width] of 3 positive integers, got ${describeValue(inputShape)}`);
  }
  if (!Array.isArray(raw.layers)) fail(`"layers" must be an array, got ${describeValue(raw.layers)}`);
  const rawLayers = raw.layers as unknown[];
  if (rawLayers.length === 0) fail('"layers" is empty; a model needs at least one dense layer producing the logits');

  const layers: LayerSpec[] = [];
  const infos: LayerInfo[] = [];
  const params: ParamInfo[] = [];
  const prefixOwner = new Map<string, number>();
  let shape: number[] = [...(inputShape as number[])];
  let convCount = 0;
  let denseCount = 0;

  rawLayers.forEach((rawLayer, index) => {
    if (!isPlainObject(rawLayer)) fail(`layer ${index}: expected an object with a "type", got ${describeValue(rawLayer)}`, index);
    const l = rawLayer as Record<string, unknown>;
    const type = l.type;
    if (typeof type !== 'string' || !(LAYER_TYPES as readonly string[]).includes(type)) {
      fail(`layer ${index}: unknown layer type ${describeValue(type)} (expected one of ${LAYER_TYPES.join(', ')})`, index);
    }
    const t = type as LayerSpec['type'];
    // Conv and dense layers own parameters; their prefix defaults to conv<n> / fc<n>.
    let paramPrefix: string | undefined;
    if (t === 'conv2d' || t === 'dense') {
      const ordinal = t === 'conv2d' ? ++convCount : ++denseCount;
      paramPrefix = l.name === undefined ? `${t === 'conv2d' ? 'conv' : 'fc'}${ordinal}` : (l.name as string);
    }
    const where = `layer ${index} (${t}${paramPrefix !== undefined ? ` ${describeValue(paramPrefix)}` : ''})`;
    const layerFail = (message: string): never => fail(`${where}: ${message}`, index);

    for (const key of Object.keys(l)) {
      if (!LAYER_KEYS[t].includes(key)) layerFail(`unknown field "${key}" (allowed for ${t}: ${LAYER_KEYS[t].join(', ')})`);
    }
    const positiveInt = (field: string, optional = false): number | undefined => {
      const v = l[field];
      if (v === undefined && optional) return undefined;
      if (!Number.isSafeInteger(v) || (v as number) < 1) layerFail(`"${field}" must be a positive integer, got ${describeValue(v)}`);
      return v as number;
    };
    const requireImage = (what: string): [number, number, number] => {
      if (shape.length !== 3) {
        layerFail(`${what} requires a [C,H,W] input but receives ${shapeText(shape)} (it comes after a flatten)`);
      }
      return shape as [number, number, number];
    };
    const claimPrefix = (p: string): void => {
      if (typeof p !== 'string' || !PARAM_PREFIX.test(p)) {
        layerFail(`"name" must be an identifier such as "conv1" (letters, digits, _ and dots), got ${describeValue(p)}`);
      }
      const owner = prefixOwner.get(p);
      if (owner !== undefined) layerFail(`parameter name "${p}" is already used by layer ${owner}; names must be unique`);
      prefixOwner.set(p, index);
    };

    const inputShapeOfLayer = [...shape];
    let label: string;
    let layerParams = 0;
    let macs = 0;

    switch (t) {
      case 'conv2d': {
        claimPrefix(paramPrefix!);
        const outChannels = positiveInt('outChannels')!;
        const k = positiveInt('kernelSize')!;
        const stride = positiveInt('stride', true);
        const padding = l.padding;
        if (padding !== undefined && (!Number.isSafeInteger(padding) || (padding as number) < 0)) {
          layerFail(`"padding" must be a non-negative integer, got ${describeValue(padding)}`);
        }
        const s = stride ?? 1;
        const p = (padding as number | undefined) ?? 0;
        const [c, h, w] = requireImage('conv2d');
        const ph = h + 2 * p;
        const pw = w + 2 * p;
        if (k > ph || k > pw) {
          layerFail(`kernelSize ${k} is larger than the padded input ${ph}x${pw} (input ${shapeText(shape)}, padding ${p})`);
        }
        const oh = Math.floor((ph - k) / s) + 1;
        const ow = Math.floor((pw - k) / s) + 1;
        shape = [outChannels, oh, ow];
        layerParams = outChannels * c * k * k + outChannels;
        macs = outChannels * oh * ow * c * k * k;
        params.push({ name: `${paramPrefix}.weight`, shape: [outChannels, c, k, k], layerIndex: index, kind: 'weight' });
        params.push({ name: `${paramPrefix}.bias`, shape: [outChannels], layerIndex: index, kind: 'bias' });
        label = `${paramPrefix} Conv2d(${c}->${outChannels}, k${k}, s${s}, p${p})`;
        // Keep exactly the fields given (no defaults filled in), in a stable key order.
        layers.push({
          type: 'conv2d',
          ...(l.name !== undefined ? { name: l.name as string } : {}),
          outChannels,
          kernelSize: k,
          ...(stride !== undefined ? { stride } : {}),
          ...(padding !== undefined ? { padding: p } : {}),
        });
        break;
      }
      case 'activation': {
        const fn = l.fn;
        if (typeof fn !== 'string' || !(ACTIVATIONS as readonly string[]).includes(fn)) {
          layerFail(`"fn" must be one of ${ACTIVATIONS.join(', ')}, got ${describeValue(fn)}`);
        }
        label = ACTIVATION_LABELS[fn as ActivationFn];
        layers.push({ type: 'activation', fn: fn as ActivationFn });
        break;
      }
      case 'pool2d': {
        const mode = l.mode;
        if (typeof mode !== 'string' || !(POOL_MODES as readonly string[]).includes(mode)) {
          layerFail(`"mode" must be one of ${POOL_MODES.join(', ')}, got ${describeValue(mode)}`);
        }
        const k = positiveInt('kernelSize')!;
        const stride = positiveInt('stride', true);
        const s = stride ?? k;
        const [c, h, w] = requireImage('pool2d');
        if (k > h || k > w) layerFail(`pooling window ${k} is larger than the input ${h}x${w} (input ${shapeText(shape)})`);
        shape = [c, Math.floor((h - k) / s) + 1, Math.floor((w - k) / s) + 1];
        label = `${mode === 'max' ? 'MaxPool2d' : 'AvgPool2d'}(k${k}, s${s})`;
        layers.push({ type: 'pool2d', mode: mode as PoolMode, kernelSize: k, ...(stride !== undefined ? { stride } : {}) });
        break;
      }
      case 'flatten': {
        const [c, h, w] = requireImage('flatten');
        shape = [c * h * w];
        label = 'Flatten';
        layers.push({ type: 'flatten' });
        break;
      }
      case 'dense': {
        claimPrefix(paramPrefix!);
        const units = positiveInt('units')!;
        if (shape.length !== 1) {
          layerFail(`dense requires a flat [features] input but receives ${shapeText(shape)}; add a flatten layer before it`);
        }
        const inFeatures = shape[0];
        shape = [units];
        layerParams = inFeatures * units + units;
        macs = inFeatures * units;
        params.push({ name: `${paramPrefix}.weight`, shape: [units, inFeatures], layerIndex: index, kind: 'weight' });
        params.push({ name: `${paramPrefix}.bias`, shape: [units], layerIndex: index, kind: 'bias' });
        label = `${paramPrefix} Dense(${inFeatures}->${units})`;
        layers.push({ type: 'dense', ...(l.name !== undefined ? { name: l.name as string } : {}), units });
        break;
      }
    }
    infos.push({ index, type: t, label: label!, inputShape: inputShapeOfLayer, outputShape: [...shape], params: layerParams, macs });
  });

  const last = infos[infos.length - 1];
  if (last.type !== 'dense') {
    fail(`layer ${last.index} (${last.type}): the model must end with a dense layer producing the logits, but ends with ${last.type}`, last.index);
  }

  return {
    spec: { name, inputShape: [...(inputShape as number[])] as [number, number, number], layers },
    layers: infos,
    params,
  };
}

/**
 * Checks that `spec` is a well-formed ModelSpec whose shapes fit at every layer, and returns a
 * clean deep copy (same fields, nothing added). Throws SpecError naming `source` (e.g. the file),
 * the layer (index, type, name) and the problem.
 */
export function validateSpec(spec: unknown, source?: string): ModelSpec {
  const clean = analyze(spec, source).spec;
  // A frozenSpec() result is already clean; the caller still gets its own, mutable copy.
  return Object.isFrozen(clean) ? structuredClone(clean) : clean;
}

/**
 * validateSpec, returning a deep-frozen clean copy whose analysis is kept: later calls of
 * inferShapes, paramInfos, numClasses, inputSize, summarize or validateSpec on it do not walk the
 * spec again (they return frozen results). Sessions keep such a spec, so per-call input checks
 * cost nanoseconds instead of a re-validation (~10 µs, a fifth of a batch-1 prediction).
 */
export function frozenSpec(spec: unknown, source?: string): Readonly<ModelSpec> {
  const analysis = analyze(spec, source);
  if (frozenAnalyses.get(analysis.spec) === analysis) return analysis.spec;
  deepFreeze(analysis);
  frozenAnalyses.set(analysis.spec, analysis);
  return analysis.spec;
}

/** Per-layer input/output shapes, parameter counts and multiply-adds. Throws SpecError if invalid. */
export function inferShapes(spec: ModelSpec): LayerInfo[] {
  return analyze(spec).layers;
}

/** Layers plus totals, like d2l's layer_summary. */
export function summarize(spec: ModelSpec): ModelSummary {
  const { spec: clean, layers } = analyze(spec);
  return {
    spec: clean,
    layers,
    totalParams: layers.reduce((sum, l) => sum + l.params, 0),
    totalMacs: layers.reduce((sum, l) => sum + l.macs, 0),
    inputShape: [...clean.inputShape],
    outputShape: [...layers[layers.length - 1].outputShape],
  };
}

/** The spec's parameters in canonical order: for each conv/dense layer, weight then bias. */
export function paramInfos(spec: ModelSpec): ParamInfo[] {
  return analyze(spec).params;
}

/** Number of classes = units of the last dense layer. */
export function numClasses(spec: ModelSpec): number {
  const { layers } = analyze(spec);
  return layers[layers.length - 1].outputShape[0];
}

/** Elements per input image: C*H*W. */
export function inputSize(spec: ModelSpec): number {
  const [c, h, w] = analyze(spec).spec.inputShape;
  return c * h * w;
}

/** 61706 -> "61,706" (locale-independent). */
export function formatCount(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** An aligned text table of the summary: one row per layer plus totals. */
export function formatSummary(s: ModelSummary): string {
  const header = ['#', 'Layer', 'Output shape', 'Params', 'Mult-adds'];
  const rows: string[][] = [
    ['', 'Input', shapeText(s.inputShape), '', ''],
    ...s.layers.map((l) => [String(l.index), l.label, shapeText(l.outputShape), formatCount(l.params), formatCount(l.macs)]),
  ];
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((r) => r[col].length)));
  const rightAligned = [false, false, false, true, true];
  const line = (r: string[]): string =>
    r
      .map((cell, col) => (rightAligned[col] ? cell.padStart(widths[col]) : cell.padEnd(widths[col])))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [
    `Model: ${s.spec.name}`,
    line(header),
    rule,
    ...rows.map(line),
    rule,
    `Total params: ${formatCount(s.totalParams)}`,
    `Total multiply-adds per image: ${formatCount(s.totalMacs)}`,
    `Output: ${shapeText(s.outputShape)} logits`,
  ].join('\n');
}

/** A layer with its defaults filled in, as one line of text ("conv2d 6 channels, kernel 5, …"). */
export function describeLayer(l: LayerSpec): string {
  switch (l.type) {
    case 'conv2d':
      return `conv2d ${l.outChannels} channels, kernel ${l.kernelSize}, stride ${l.stride ?? 1}, padding ${l.padding ?? 0}`;
    case 'activation':
      return `activation ${l.fn}`;
    case 'pool2d':
      return `pool2d ${l.mode}, kernel ${l.kernelSize}, stride ${l.stride ?? l.kernelSize}`;
    case 'flatten':
      return 'flatten';
    case 'dense':
      return `dense ${l.units} units`;
  }
}

/**
 * The first place two specs compute differently, as text ("layer 1: activation sigmoid vs
 * activation relu"), or null when they are the same network (names are not compared).
 */
export function specDifference(a: ModelSpec, b: ModelSpec): string | null {
  if (a.inputShape.join(',') !== b.inputShape.join(',')) return `input shape: [${a.inputShape.join(', ')}] vs [${b.inputShape.join(', ')}]`;
  const n = Math.max(a.layers.length, b.layers.length);
  for (let i = 0; i < n; i++) {
    const la = a.layers[i] ? describeLayer(a.layers[i]!) : '(no layer)';
    const lb = b.layers[i] ? describeLayer(b.layers[i]!) : '(no layer)';
    if (la !== lb) return `layer ${i}: ${la} vs ${lb}`;
  }
  return null;
}
