/**
 * The float64 reference implementation: forward, mean softmax cross-entropy, backward and one
 * SGD step for every layer the spec allows. Written to be obviously correct, not fast: one
 * sample at a time, plain nested loops that mirror the textbook formulas. Every backend is
 * compared against it (see conformance.ts), and it is itself checked with finite differences.
 *
 * Conventions (PyTorch's):
 * - conv2d: cross-correlation, square kernel, symmetric zero padding, any stride;
 *   output size floor((H + 2p - k) / s) + 1. Weight [out, in, k, k], bias [out].
 * - pool2d: no padding, window k, stride s (default k); output size floor((H - k) / s) + 1.
 *   avg divides by k*k. max routes the gradient to the FIRST maximum of the window in scan
 *   order (row by row, left to right); later equal values get none.
 * - activations: sigmoid, tanh, relu with relu'(0) = 0.
 * - flatten: C,H,W order. dense: y = W x + b with W [units, in].
 */
import type { ModelSpec, Weights, ParamInfo } from '@lenet/model';
import { paramInfos, validateSpec, validateWeights } from '@lenet/model';
import { softmaxCrossEntropy } from './loss.js';
import { checkOptimizer, sgdMomentumUpdate, type OptimizerOptions } from './optimizer.js';

/** Parameters in float64 (the reference's internal precision), keyed by canonical name. */
export type Params64 = Map<string, Float64Array>;

type Shape3 = { c: number; h: number; w: number };

/** One layer of the spec with every size resolved. */
export type RefOp =
  | {
      kind: 'conv2d';
      index: number;
      inC: number;
      inH: number;
      inW: number;
      outC: number;
      outH: number;
      outW: number;
      k: number;
      stride: number;
      pad: number;
      weight: string;
      bias: string;
    }
  | { kind: 'activation'; index: number; fn: 'sigmoid' | 'relu' | 'tanh'; size: number }
  | {
      kind: 'pool2d';
      index: number;
      mode: 'avg' | 'max';
      c: number;
      inH: number;
      inW: number;
      outH: number;
      outW: number;
      k: number;
      stride: number;
    }
  | { kind: 'flatten'; index: number; size: number }
  | { kind: 'dense'; index: number; inF: number; units: number; weight: string; bias: string };

export interface RefPlan {
  ops: RefOp[];
  inputSize: number;
  classes: number;
  params: ParamInfo[];
}

function paramName(params: ParamInfo[], layerIndex: number, kind: 'weight' | 'bias'): string {
  const p = params.find((q) => q.layerIndex === layerIndex && q.kind === kind);
  if (!p) throw new Error(`reference: spec layer ${layerIndex} has no ${kind} parameter in paramInfos`);
  return p.name;
}

/** Resolves every layer's sizes (independently of @lenet/model's shape inference). */
export function planReference(spec: ModelSpec): RefPlan {
  const valid = validateSpec(spec);
  const params = paramInfos(valid);
  const [c0, h0, w0] = valid.inputShape;
  let shape: Shape3 | null = { c: c0, h: h0, w: w0 };
  let flat = c0 * h0 * w0;
  const ops: RefOp[] = [];
  valid.layers.forEach((layer, index) => {
    const need3 = (): Shape3 => {
      if (!shape) throw new Error(`reference: layer ${index} (${layer.type}) needs a [C,H,W] input`);
      return shape;
    };
    switch (layer.type) {
      case 'conv2d': {
        const s = need3();
        const k = layer.kernelSize;
        const stride = layer.stride ?? 1;
        const pad = layer.padding ?? 0;
        const outH = Math.floor((s.h + 2 * pad - k) / stride) + 1;
        const outW = Math.floor((s.w + 2 * pad - k) / stride) + 1;
        ops.push({
          kind: 'conv2d', index, inC: s.c, inH: s.h, inW: s.w, outC: layer.outChannels, outH, outW,
          k, stride, pad, weight: paramName(params, index, 'weight'), bias: paramName(params, index, 'bias'),
        });
        shape = { c: layer.outChannels, h: outH, w: outW };
        flat = shape.c * outH * outW;
        break;
      }
      case 'activation':
        ops.push({ kind: 'activation', index, fn: layer.fn, size: flat });
        break;
      case 'pool2d': {
        const s = need3();
        const k = layer.kernelSize;
        const stride = layer.stride ?? k;
        const outH = Math.floor((s.h - k) / stride) + 1;
        const outW = Math.floor((s.w - k) / stride) + 1;
        ops.push({ kind: 'pool2d', index, mode: layer.mode, c: s.c, inH: s.h, inW: s.w, outH, outW, k, stride });
        shape = { c: s.c, h: outH, w: outW };
        flat = s.c * outH * outW;
        break;
      }
      case 'flatten':
        ops.push({ kind: 'flatten', index, size: flat });
        shape = null;
        break;
      case 'dense':
        // A dense layer reads its input as a flat vector (C,H,W order) whatever its shape.
        ops.push({
          kind: 'dense', index, inF: flat, units: layer.units,
          weight: paramName(params, index, 'weight'), bias: paramName(params, index, 'bias'),
        });
        shape = null;
        flat = layer.units;
        break;
    }
  });
  const last = ops[ops.length - 1];
  if (!last || last.kind !== 'dense') throw new Error('reference: the last layer must be dense');
  return { ops, inputSize: c0 * h0 * w0, classes: last.units, params };
}

/** Weights (float32) -> float64 parameters, after validating them against the spec. */
export function toParams64(spec: ModelSpec, weights: Weights): Params64 {
  validateWeights(spec, weights);
  const out: Params64 = new Map();
  for (const p of paramInfos(spec)) out.set(p.name, Float64Array.from(weights.get(p.name)!.data));
  return out;
}

function get(params: Params64, name: string): Float64Array {
  const v = params.get(name);
  if (!v) throw new Error(`reference: missing parameter ${name}`);
  return v;
}

export function opForward(op: RefOp, params: Params64, input: Float64Array): Float64Array {
  switch (op.kind) {
    case 'conv2d': {
      const { inC, inH, inW, outC, outH, outW, k, stride, pad } = op;
      const w = get(params, op.weight);
      const b = get(params, op.bias);
      const out = new Float64Array(outC * outH * outW);
      for (let o = 0; o < outC; o++) {
        for (let i = 0; i < outH; i++) {
          for (let j = 0; j < outW; j++) {
            let s = b[o]!;
            for (let c = 0; c < inC; c++) {
              for (let u = 0; u < k; u++) {
                const ih = i * stride + u - pad;
                if (ih < 0 || ih >= inH) continue;
                for (let v = 0; v < k; v++) {
                  const iw = j * stride + v - pad;
                  if (iw < 0 || iw >= inW) continue;
                  s += w[((o * inC + c) * k + u) * k + v]! * input[(c * inH + ih) * inW + iw]!;
                }
              }
            }
            out[(o * outH + i) * outW + j] = s;
          }
        }
      }
      return out;
    }
    case 'activation': {
      const out = new Float64Array(op.size);
      for (let i = 0; i < op.size; i++) {
        const x = input[i]!;
        out[i] = op.fn === 'sigmoid' ? 1 / (1 + Math.exp(-x)) : op.fn === 'tanh' ? Math.tanh(x) : x > 0 ? x : 0;
      }
      return out;
    }
    case 'pool2d': {
      const { c: C, inH, inW, outH, outW, k, stride } = op;
      const out = new Float64Array(C * outH * outW);
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < outH; i++) {
          for (let j = 0; j < outW; j++) {
            let acc = op.mode === 'max' ? -Infinity : 0;
            for (let u = 0; u < k; u++) {
              for (let v = 0; v < k; v++) {
                const x = input[(c * inH + i * stride + u) * inW + j * stride + v]!;
                if (op.mode === 'max') {
                  if (x > acc) acc = x;
                } else acc += x;
              }
            }
            out[(c * outH + i) * outW + j] = op.mode === 'max' ? acc : acc / (k * k);
          }
        }
      }
      return out;
    }
    case 'flatten':
      return input;
    case 'dense': {
      const { inF, units } = op;
      const w = get(params, op.weight);
      const b = get(params, op.bias);
      const out = new Float64Array(units);
      for (let u = 0; u < units; u++) {
        let s = b[u]!;
        for (let f = 0; f < inF; f++) s += w[u * inF + f]! * input[f]!;
        out[u] = s;
      }
      return out;
    }
  }
}

/**
 * Back-propagates `dOut` through one layer: adds parameter gradients into `grads` and returns
 * the gradient with respect to the layer's input.
 */
export function opBackward(
  op: RefOp,
  params: Params64,
  grads: Params64,
  input: Float64Array,
  output: Float64Array,
  dOut: Float64Array,
): Float64Array {
  switch (op.kind) {
    case 'conv2d': {
      const { inC, inH, inW, outC, outH, outW, k, stride, pad } = op;
      const w = get(params, op.weight);
      const gw = get(grads, op.weight);
      const gb = get(grads, op.bias);
      const dIn = new Float64Array(inC * inH * inW);
      for (let o = 0; o < outC; o++) {
        for (let i = 0; i < outH; i++) {
          for (let j = 0; j < outW; j++) {
            const g = dOut[(o * outH + i) * outW + j]!;
            gb[o] += g;
            for (let c = 0; c < inC; c++) {
              for (let u = 0; u < k; u++) {
                const ih = i * stride + u - pad;
                if (ih < 0 || ih >= inH) continue;
                for (let v = 0; v < k; v++) {
                  const iw = j * stride + v - pad;
                  if (iw < 0 || iw >= inW) continue;
                  const wi = ((o * inC + c) * k + u) * k + v;
                  const xi = (c * inH + ih) * inW + iw;
                  gw[wi] += g * input[xi]!;
                  dIn[xi] += g * w[wi]!;
                }
              }
            }
          }
        }
      }
      return dIn;
    }
    case 'activation': {
      const dIn = new Float64Array(op.size);
      for (let i = 0; i < op.size; i++) {
        const y = output[i]!;
        const d =
          op.fn === 'sigmoid' ? y * (1 - y) : op.fn === 'tanh' ? 1 - y * y : input[i]! > 0 ? 1 : 0;
        dIn[i] = dOut[i]! * d;
      }
      return dIn;
    }
    case 'pool2d': {
      const { c: C, inH, inW, outH, outW, k, stride } = op;
      const dIn = new Float64Array(C * inH * inW);
      for (let c = 0; c < C; c++) {
        for (let i = 0; i < outH; i++) {
          for (let j = 0; j < outW; j++) {
            const g = dOut[(c * outH + i) * outW + j]!;
            if (op.mode === 'avg') {
              for (let u = 0; u < k; u++) {
                for (let v = 0; v < k; v++) dIn[(c * inH + i * stride + u) * inW + j * stride + v] += g / (k * k);
              }
            } else {
              // First maximum in scan order receives the whole gradient.
              let best = -1;
              let max = -Infinity;
              for (let u = 0; u < k; u++) {
                for (let v = 0; v < k; v++) {
                  const xi = (c * inH + i * stride + u) * inW + j * stride + v;
                  if (best < 0 || input[xi]! > max) {
                    max = input[xi]!;
                    best = xi;
                  }
                }
              }
              dIn[best] += g;
            }
          }
        }
      }
      return dIn;
    }
    case 'flatten':
      return dOut;
    case 'dense': {
      const { inF, units } = op;
      const w = get(params, op.weight);
      const gw = get(grads, op.weight);
      const gb = get(grads, op.bias);
      const dIn = new Float64Array(inF);
      for (let u = 0; u < units; u++) {
        const g = dOut[u]!;
        gb[u] += g;
        for (let f = 0; f < inF; f++) {
          gw[u * inF + f] += g * input[f]!;
          dIn[f] += g * w[u * inF + f]!;
        }
      }
      return dIn;
    }
  }
}

/** Activations of one sample: acts[0] is the input, acts[i + 1] the output of ops[i]. */
function forwardSample(plan: RefPlan, params: Params64, x: ArrayLike<number>, offset: number): Float64Array[] {
  const input = new Float64Array(plan.inputSize);
  for (let i = 0; i < plan.inputSize; i++) input[i] = x[offset + i]!;
  const acts: Float64Array[] = [input];
  for (const op of plan.ops) acts.push(opForward(op, params, acts[acts.length - 1]!));
  return acts;
}

function checkN(n: number, x: ArrayLike<number>, plan: RefPlan, where: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${where}: n must be a positive integer, got ${n}`);
  if (x.length < n * plan.inputSize) {
    throw new RangeError(`${where}: x has ${x.length} values, need n*inputSize = ${n * plan.inputSize}`);
  }
}

/** Forward pass in float64 with float64 parameters: n rows of logits. */
export function forward64(plan: RefPlan, params: Params64, x: ArrayLike<number>, n: number): Float64Array {
  checkN(n, x, plan, 'referenceForward');
  const logits = new Float64Array(n * plan.classes);
  for (let s = 0; s < n; s++) {
    const acts = forwardSample(plan, params, x, s * plan.inputSize);
    logits.set(acts[acts.length - 1]!, s * plan.classes);
  }
  return logits;
}

/** Mean softmax cross-entropy and its gradient with respect to every parameter, in float64. */
export function lossAndGradients64(
  plan: RefPlan,
  params: Params64,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
): { loss: number; grads: Params64 } {
  checkN(n, x, plan, 'referenceLossAndGradients');
  const grads: Params64 = new Map();
  for (const p of plan.params) grads.set(p.name, new Float64Array(get(params, p.name).length));
  const C = plan.classes;
  let total = 0;
  for (let s = 0; s < n; s++) {
    const acts = forwardSample(plan, params, x, s * plan.inputSize);
    const logits = acts[acts.length - 1]!;
    const label = y[s]!;
    total += softmaxCrossEntropy(logits, [label], 1, C).loss;
    // d(mean loss)/d(logits) = (softmax - onehot) / n
    let max = -Infinity;
    for (let k = 0; k < C; k++) max = Math.max(max, logits[k]!);
    let sum = 0;
    for (let k = 0; k < C; k++) sum += Math.exp(logits[k]! - max);
    let d: Float64Array = new Float64Array(C);
    for (let k = 0; k < C; k++) d[k] = (Math.exp(logits[k]! - max) / sum - (k === label ? 1 : 0)) / n;
    for (let i = plan.ops.length - 1; i >= 0; i--) {
      d = opBackward(plan.ops[i]!, params, grads, acts[i]!, acts[i + 1]!, d);
    }
  }
  return { loss: total / n, grads };
}

/** Logits (n rows of numClasses) of the float64 forward pass; weights are validated first. */
export function referenceForward(spec: ModelSpec, weights: Weights, x: ArrayLike<number>, n: number): Float64Array {
  const plan = planReference(spec);
  return forward64(plan, toParams64(spec, weights), x, n);
}

/** Mean loss over the n samples and dLoss/dParam for every parameter (canonical order). */
export function referenceLossAndGradients(
  spec: ModelSpec,
  weights: Weights,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
): { loss: number; grads: Map<string, Float64Array> } {
  const plan = planReference(spec);
  return lossAndGradients64(plan, toParams64(spec, weights), x, y, n);
}

/**
 * One SGD step: returns the loss before the update and new float32 weights
 * w' = fround(w - lr * g), the subtraction done in float64 and rounded once.
 */
export function referenceSgdStep(
  spec: ModelSpec,
  weights: Weights,
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  n: number,
  lr: number,
): { loss: number; weights: Weights } {
  const plan = planReference(spec);
  const { loss, grads } = lossAndGradients64(plan, toParams64(spec, weights), x, y, n);
  const next: Weights = new Map();
  for (const p of plan.params) {
    const w = weights.get(p.name)!.data;
    const g = grads.get(p.name)!;
    const data = new Float32Array(w.length); // storing into a Float32Array rounds like Math.fround
    for (let i = 0; i < w.length; i++) data[i] = w[i]! - lr * g[i]!;
    next.set(p.name, { shape: [...p.shape], data });
  }
  return { loss, weights: next };
}

/** One step of referenceTrainSteps: the first n samples of x/y at learning rate lr. */
export interface ReferenceStep {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
  lr: number;
}

/**
 * Several training steps in float64 with the optimizer's update (sgdMomentumUpdate; plain SGD
 * when `optimizer` is plain), the velocity carried from step to step: each step's loss and the
 * final weights (float32, rounded once per step as every backend stores them).
 */
export function referenceTrainSteps(
  spec: ModelSpec,
  weights: Weights,
  steps: readonly ReferenceStep[],
  optimizer?: OptimizerOptions,
): { losses: number[]; weights: Weights } {
  const sgd = checkOptimizer('reference', optimizer);
  const plan = planReference(spec);
  const params = toParams64(spec, weights);
  const velocity = new Map<string, Float64Array>();
  for (const [name, w] of params) velocity.set(name, new Float64Array(w.length));
  const losses: number[] = [];
  for (const step of steps) {
    const { loss, grads } = lossAndGradients64(plan, params, step.x, step.y, step.n);
    losses.push(loss);
    for (const [name, w] of params) {
      const g = grads.get(name)!;
      const v = velocity.get(name)!;
      for (let i = 0; i < w.length; i++) w[i] = Math.fround(sgd ? sgdMomentumUpdate(w[i]!, g[i]!, step.lr, sgd, v, i) : w[i]! - step.lr * g[i]!);
    }
  }
  const next: Weights = new Map();
  for (const p of plan.params) next.set(p.name, { shape: [...p.shape], data: Float32Array.from(params.get(p.name)!) });
  return { losses, weights: next };
}
