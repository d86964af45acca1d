/**
 * Compiles a ModelSpec into a flat execution plan: the layer ops in order, where each
 * parameter lives in the flat parameter vector (canonical order, as flattenWeights), and an
 * arena layout (element offsets) holding everything one thread needs for a micro-chunk of
 * samples: parameters, gradients, activations and their gradients, im2col patch matrices.
 */
import type { ActivationFn, ModelSpec } from '@lenet/model';
import { paramInfos, shapeSize } from '@lenet/model';
import { colSize, convGeometry, type ConvGeometry } from './layers/conv2d.js';
import { poolGeometry, type PoolGeometry } from './layers/pool2d.js';

export interface TensorSlot {
  /** Elements per sample. */
  size: number;
  /** Arena offset of the values for the whole chunk (chunk * size elements). */
  value: number;
  /** Arena offset of the gradients, or -1 when no gradient is needed (the network input). */
  grad: number;
}

interface OpBase {
  layerIndex: number;
  label: string;
  /** Tensor ids (index into Plan.tensors). */
  input: number;
  output: number;
}
export interface ConvOp extends OpBase {
  kind: 'conv2d';
  geom: ConvGeometry;
  wOff: number;
  bOff: number;
  /** Arena offset of the per-sample patch matrices (chunk * colSize). */
  col: number;
  colSize: number;
}
export interface DenseOp extends OpBase {
  kind: 'dense';
  inF: number;
  outF: number;
  wOff: number;
  bOff: number;
}
export interface ActivationOp extends OpBase {
  kind: 'activation';
  fn: ActivationFn;
  size: number;
}
export interface PoolOp extends OpBase {
  kind: 'pool2d';
  geom: PoolGeometry;
}
export type Op = ConvOp | DenseOp | ActivationOp | PoolOp;

export interface Plan {
  spec: ModelSpec;
  chunk: number;
  inputSize: number;
  classes: number;
  /** Total parameters (length of the flat parameter vector). */
  paramCount: number;
  /** Parameter names/shapes/offsets in canonical order. */
  params: { name: string; shape: number[]; offset: number; size: number }[];
  ops: Op[];
  tensors: TensorSlot[];
  /** Index of the first op with parameters; ops before it need no backward pass. */
  firstParamOp: number;
  /** Arena offsets. */
  arena: { params: number; grads: number; dcol: number; size: number };
  /** Tensor id of the logits. */
  logits: number;
}

/** Offsets rounded up to 16 elements (64 bytes in float32) so every region starts on a cache line. */
function align(n: number): number {
  return (n + 15) & ~15;
}

/**
 * `chunk` is the number of samples one thread processes at a time (the micro-chunk of the
 * fixed-order gradient reduction). The spec must already be validated.
 */
export function buildPlan(spec: ModelSpec, chunk: number): Plan {
  const infos = paramInfos(spec);
  const params: Plan['params'] = [];
  let paramCount = 0;
  const weightOff = new Map<number, number>();
  const biasOff = new Map<number, number>();
  for (const p of infos) {
    const size = shapeSize(p.shape);
    params.push({ name: p.name, shape: p.shape.slice(), offset: paramCount, size });
    (p.kind === 'weight' ? weightOff : biasOff).set(p.layerIndex, paramCount);
    paramCount += size;
  }

  let top = 0;
  const alloc = (n: number): number => {
    const at = top;
    top = align(top + n);
    return at;
  };
  const arenaParams = alloc(paramCount);
  const arenaGrads = alloc(paramCount);

  const tensors: TensorSlot[] = [];
  const [c0, h0, w0] = spec.inputShape;
  tensors.push({ size: c0 * h0 * w0, value: alloc(chunk * c0 * h0 * w0), grad: -1 });
  const newTensor = (size: number): number => {
    tensors.push({ size, value: alloc(chunk * size), grad: alloc(chunk * size) });
    return tensors.length - 1;
  };

  // Current shape: [C, H, W] or [F] after flatten.
  let shape: number[] = [c0, h0, w0];
  let cur = 0;
  // Whether `cur` was written by an op that may be overwritten in place by an activation.
  let curFresh = false;
  let maxCol = 0;
  let convCount = 0;
  let denseCount = 0;
  const ops: Op[] = [];
  let firstParamOp = -1;

  spec.layers.forEach((layer, layerIndex) => {
    switch (layer.type) {
      case 'conv2d': {
        convCount++;
        const [c, h, w] = shape as [number, number, number];
        const geom = convGeometry(c, h, w, layer.outChannels, layer.kernelSize, layer.stride ?? 1, layer.padding ?? 0);
        const cs = colSize(geom);
        maxCol = Math.max(maxCol, cs);
        const out = newTensor(geom.outChannels * geom.outH * geom.outW);
        if (firstParamOp < 0) firstParamOp = ops.length;
        ops.push({
          kind: 'conv2d', layerIndex, label: layer.name ?? `conv${convCount}`, input: cur, output: out, geom,
          wOff: weightOff.get(layerIndex)!, bOff: biasOff.get(layerIndex)!, col: alloc(chunk * cs), colSize: cs,
        });
        shape = [geom.outChannels, geom.outH, geom.outW];
        cur = out;
        curFresh = true;
        break;
      }
      case 'dense': {
        denseCount++;
        const inF = shapeSize(shape);
        const out = newTensor(layer.units);
        if (firstParamOp < 0) firstParamOp = ops.length;
        ops.push({
          kind: 'dense', layerIndex, label: layer.name ?? `fc${denseCount}`, input: cur, output: out,
          inF, outF: layer.units, wOff: weightOff.get(layerIndex)!, bOff: biasOff.get(layerIndex)!,
        });
        shape = [layer.units];
        cur = out;
        curFresh = true;
        break;
      }
      case 'activation': {
        const size = shapeSize(shape);
        // In place when the input is a fresh op output: its backward needs only its own output y,
        // and the producer's backward does not read its output. Not in place on the network
        // input or on another activation's output (that one still needs its y).
        const out = curFresh ? cur : newTensor(size);
        ops.push({ kind: 'activation', layerIndex, label: layer.fn, input: cur, output: out, fn: layer.fn, size });
        cur = out;
        curFresh = false;
        break;
      }
      case 'pool2d': {
        const [c, h, w] = shape as [number, number, number];
        const geom = poolGeometry(layer.mode, c, h, w, layer.kernelSize, layer.stride ?? layer.kernelSize);
        const out = newTensor(c * geom.outH * geom.outW);
        ops.push({ kind: 'pool2d', layerIndex, label: `${layer.mode}pool`, input: cur, output: out, geom });
        shape = [c, geom.outH, geom.outW];
        cur = out;
        curFresh = true;
        break;
      }
      case 'flatten':
        shape = [shapeSize(shape)];
        break;
    }
  });
  const dcol = alloc(maxCol);
  return {
    spec,
    chunk,
    inputSize: c0 * h0 * w0,
    classes: shapeSize(shape),
    paramCount,
    params,
    ops,
    tensors,
    firstParamOp: Math.max(0, firstParamOp),
    arena: { params: arenaParams, grads: arenaGrads, dcol, size: top },
    logits: cur,
  };
}
