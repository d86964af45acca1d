/**
 * The training-step graph: one SGD step of mean softmax cross-entropy as a plain ONNX model
 * (onnxruntime 1.20+ has no training API; this needs only standard inference operators).
 *
 * Inputs:  `input` float [N,C,H,W], `labels` int32 [N], `lr` float scalar, and every parameter
 *          under its canonical name (conv1.weight, …).
 * Outputs: `loss` float scalar (mean over the N samples, computed before the update), then
 *          `<param>.next` = param - lr * dLoss/dparam for every parameter, in canonical order;
 *          with `gradients: true` also `<param>.grad`. With `gradientsOnly: true` there is no
 *          `lr` input and no update: the outputs are `loss` and the `<param>.grad`s (the
 *          data-parallel trainer's per-chunk graph, data-parallel.ts).
 *
 * Forward pass: the inference graph's nodes (forward.ts); for ort-node on x86-64 convs with few
 * input channels and whole NCHWc blocks of output channels (LeNet's conv2) run on ORT's NCHWc
 * kernels with an in-graph reordered filter (option nchwcBlock).
 *
 * Backward pass, layer by layer (g = gradient w.r.t. the layer output):
 * - loss:    SoftmaxCrossEntropyLoss(mean) gives the loss and log-probabilities;
 *            dlogits = (exp(logp) - OneHot(labels)) * (1/N), N = Cast(Gather(Shape(input), 0)).
 * - dense:   dW = Gemm(g, X, transA) ; db = ReduceSum(g, axis 0) ; dX = MatMul(g, W).
 * - conv:    db = ReduceSum(g, axes 0,2,3);
 *            dW = Conv(X^T, g^T) with the forward stride as dilation and the forward padding
 *                 (batch becomes the channel axis; X^T = [Cin,N,H,W], g^T = [O,N,Ho,Wo]),
 *                 cropped to k x k when the forward conv dropped trailing rows, then transposed
 *                 (an explicit im2col — k*k strided Slices + Concat + one Gemm(transB) — was
 *                 measured slower in the whole graph: ORT's Conv does the same expansion faster);
 *            dX = ConvTranspose(g, W) with the forward stride/padding and output_padding that
 *                 restores H x W.
 * - pooling: avg = depthwise ConvTranspose with a constant 1/k^2 kernel;
 *            max with stride = kernel (LeNet): SpaceToDepth + ArgMax (first maximum) + one-hot
 *                 mask, put back by one ConvTranspose (see maxPoolTiled); a relu right before a
 *                 max pool is applied as a mask on the pooled grid;
 *            max, other strides: for each window offset (a,b) in scan order, Slice the strided input, compare
 *                 with the pooled output, keep only the first match per window (running
 *                 "found" mask, matching the reference's first-max rule), route g through Where,
 *                 and scatter all k^2 pieces back at once with a grouped ConvTranspose whose
 *                 kernels are one-hot at each offset.
 * - activations: sigmoid g*A*(1-A), tanh g*(1-A^2), relu Where(A>0, g, 0).
 * - flatten: Reshape(g, Shape(X)).
 * The gradient w.r.t. the network input is never built.
 */
import type { ModelSpec } from '@lenet/model';
import { numClasses, paramInfos, validateSpec } from '@lenet/model';
import { DataType, GraphBuilder, encodeModel, int, ints } from './graph-builder.js';
import type { ForwardStep } from './forward.js';
import { NCHWC_DOMAIN, buildForward, nchwcEligible } from './forward.js';
import { BATCH_DIM, DEFAULT_OPSET, INPUT_NAME, checkOpset } from './export.js';
import type { Opset } from './export.js';
import { PACKAGE_VERSION } from './version.js';

export const LABELS_NAME = 'labels';
export const LR_NAME = 'lr';
export const LOSS_NAME = 'loss';
export const nextName = (param: string): string => `${param}.next`;
export const gradName = (param: string): string => `${param}.grad`;

export interface TrainingGraphOptions {
  opset?: Opset;
  /** Also output every gradient as `<param>.grad`. Default false. */
  gradients?: boolean;
  /**
   * onnxruntime-node only: the NCHWc block size probed on this machine (see nchwcBlockSize in
   * backends.ts); eligible forward convs then use ORT's com.microsoft.nchwc kernels (forward.ts).
   * The graph then loads only in onnxruntime builds with those kernels (x86-64 CPU EP).
   */
  nchwcBlock?: number;
  /** Only loss and gradients: no `lr` input, no `.next` outputs (see the module comment). */
  gradientsOnly?: boolean;
}

export interface TrainingGraph {
  bytes: Uint8Array;
  inputNames: string[];
  outputNames: string[];
  /** Canonical parameter names, in order (inputs after input/labels/lr; outputs `.next`). */
  params: string[];
}

class Backward {
  private readonly consts = new Map<string, string>();
  constructor(private readonly g: GraphBuilder) {}

  /** Scalar float constants, created on first use (unused initializers draw ORT warnings). */
  get one(): string {
    return this.f32(1);
  }
  get zero(): string {
    return this.f32(0);
  }
  f32(value: number): string {
    const key = `f:${value}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.g.floatTensor(value === 0 ? 'zero' : value === 1 ? 'one' : 'const_f32', [], [value]);
      this.consts.set(key, name);
    }
    return name;
  }

  i64(values: number[], scalar = false): string {
    const key = `${scalar ? 's' : 'v'}:${values.join(',')}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.g.int64Tensor('const_i64', scalar ? [] : [values.length], values);
      this.consts.set(key, name);
    }
    return name;
  }

  dense(step: ForwardStep, grad: string, needInput: boolean): { dW: string; db: string; dX?: string } {
    const g = this.g;
    const dW = g.op('Gemm', [grad, step.input], { transA: int(1) }, undefined);
    const db = g.op('ReduceSum', [grad, this.i64([0])], { keepdims: int(0) });
    const dX = needInput ? g.op('MatMul', [grad, step.weight!]) : undefined;
    return { dW, db, dX };
  }

  conv(step: ForwardStep, grad: string, needInput: boolean): { dW: string; db: string; dX?: string } {
    const g = this.g;
    const layer = step.layer as Extract<ForwardStep['layer'], { type: 'conv2d' }>;
    const k = layer.kernelSize;
    const s = layer.stride ?? 1;
    const p = layer.padding ?? 0;
    const [cin, h, w] = step.inputShape;
    const [, ho, wo] = step.outputShape;
    const db = g.op('ReduceSum', [grad, this.i64([0, 2, 3])], { keepdims: int(0) });
    // X^T: [Cin, N, H, W]. For one input channel this is a free reshape.
    const xT = cin === 1 ? g.op('Reshape', [step.input, this.i64([1, -1, h, w])]) : g.op('Transpose', [step.input], { perm: ints([1, 0, 2, 3]) });
    const gT = g.op('Transpose', [grad], { perm: ints([1, 0, 2, 3]) });
    // Output spatial size of this correlation: H + 2p - s*(Ho-1); at least k.
    const kh = h + 2 * p - s * (ho - 1);
    const kw = w + 2 * p - s * (wo - 1);
    let dWT = g.op('Conv', [xT, gT], { pads: ints([p, p, p, p]), dilations: ints([s, s]), strides: ints([1, 1]), group: int(1) });
    if (kh !== k || kw !== k) dWT = g.op('Slice', [dWT, this.i64([0, 0]), this.i64([k, k]), this.i64([2, 3])]);
    const dW = g.op('Transpose', [dWT], { perm: ints([1, 0, 2, 3]) });
    let dX: string | undefined;
    if (needInput) {
      const oph = h - ((ho - 1) * s + k - 2 * p);
      const opw = w - ((wo - 1) * s + k - 2 * p);
      dX = g.op('ConvTranspose', [grad, step.weight!], {
        kernel_shape: ints([k, k]),
        strides: ints([s, s]),
        pads: ints([p, p, p, p]),
        output_padding: ints([oph, opw]),
      });
    }
    return { dW, db, dX };
  }

  activation(step: ForwardStep, grad: string): string {
    const g = this.g;
    const layer = step.layer as Extract<ForwardStep['layer'], { type: 'activation' }>;
    const a = step.output;
    switch (layer.fn) {
      case 'sigmoid':
        return g.op('Mul', [grad, g.op('Mul', [a, g.op('Sub', [this.one, a])])]);
      case 'tanh':
        return g.op('Mul', [grad, g.op('Sub', [this.one, g.op('Mul', [a, a])])]);
      case 'relu':
        // relu'(z) = [z > 0] = [relu(z) > 0]; using the output keeps Conv+Relu fusable.
        return g.op('Where', [g.op('Greater', [a, this.zero]), grad, this.zero]);
    }
  }

  /**
   * Max-pool backward when the windows tile the input (stride = kernel, as in LeNet): the k^2
   * elements of every window become k^2 planes (SpaceToDepth), ArgMax over the planes picks each
   * window's first maximum in scan order (the reference's tie rule), a one-hot mask times g
   * gives the per-plane gradients, and one ConvTranspose with a constant one-hot kernel puts
   * the planes back in place (rows/columns no window covered get 0 via output_padding).
   * ORT's MaxPool with its Indices output would give the same positions, but its indices
   * kernel is ~25x slower than plain MaxPool (measured in onnxruntime 1.30).
   */
  private maxPoolTiled(step: ForwardStep, grad: string): string {
    const g = this.g;
    const k = (step.layer as Extract<ForwardStep['layer'], { type: 'pool2d' }>).kernelSize;
    const [c, h, w] = step.inputShape;
    const [, ho, wo] = step.outputShape;
    const kk = k * k;
    let x = step.input;
    if (h !== ho * k || w !== wo * k) x = g.op('Slice', [x, this.i64([0, 0]), this.i64([ho * k, wo * k]), this.i64([2, 3])]);
    // SpaceToDepth's channel index is (u*k + v)*C + c: plane u*k+v holds window element (u, v).
    const planes = g.op('Reshape', [g.op('SpaceToDepth', [x], { blocksize: int(k) }), this.i64([0, kk, c, ho, wo])]);
    const argmax = g.op('ArgMax', [planes], { axis: int(1), keepdims: int(1), select_last_index: int(0) });
    const iota = g.int64Tensor('plane_index', [kk, 1, 1, 1], Array.from({ length: kk }, (_, i) => i));
    const mask = g.op('Cast', [g.op('Equal', [argmax, iota])], { to: int(DataType.FLOAT) });
    const routed = g.op('Reshape', [g.op('Mul', [mask, g.op('Unsqueeze', [grad, this.i64([1])])]), this.i64([0, kk * c, ho, wo])]);
    const scatter = new Float32Array(kk * c * c * kk);
    for (let o = 0; o < kk; o++) for (let ch = 0; ch < c; ch++) scatter[((o * c + ch) * c + ch) * kk + o] = 1;
    const kernel = g.floatTensor('maxpool_unplane_kernel', [kk * c, c, k, k], scatter);
    return g.op('ConvTranspose', [routed, kernel], { strides: ints([k, k]), kernel_shape: ints([k, k]), output_padding: ints([h - ho * k, w - wo * k]) });
  }

  pool(step: ForwardStep, grad: string): string {
    const g = this.g;
    const layer = step.layer as Extract<ForwardStep['layer'], { type: 'pool2d' }>;
    const k = layer.kernelSize;
    const s = layer.stride ?? k;
    const [c, h, w] = step.inputShape;
    const [, ho, wo] = step.outputShape;
    if (layer.mode === 'max' && s === k) return this.maxPoolTiled(step, grad);
    const convT = { strides: ints([s, s]), kernel_shape: ints([k, k]), group: int(c), output_padding: ints([h - ((ho - 1) * s + k), w - ((wo - 1) * s + k)]) };
    if (layer.mode === 'avg') {
      const kernel = g.floatTensor('avgpool_grad_kernel', [c, 1, k, k], new Float32Array(c * k * k).fill(1 / (k * k)));
      return g.op('ConvTranspose', [grad, kernel], convT);
    }
    // max: route each window's gradient to its first maximum (scan order).
    const pieces: string[] = [];
    let found: string | undefined;
    for (let a = 0; a < k; a++) {
      for (let b = 0; b < k; b++) {
        const xs = g.op('Slice', [step.input, this.i64([a, b]), this.i64([a + s * (ho - 1) + 1, b + s * (wo - 1) + 1]), this.i64([2, 3]), this.i64([s, s])]);
        const eq = g.op('Equal', [xs, step.output]);
        let take: string;
        if (found === undefined) {
          take = eq;
          found = eq;
        } else {
          take = g.op('And', [eq, g.op('Not', [found])]);
          if (!(a === k - 1 && b === k - 1)) found = g.op('Or', [found, eq]);
        }
        pieces.push(g.op('Unsqueeze', [g.op('Where', [take, grad, this.zero]), this.i64([2])]));
      }
    }
    // [N, C, k*k, Ho, Wo] -> [N, C*k*k, Ho, Wo]; group c scatters its k*k pieces to channel c.
    const stacked = g.op('Reshape', [g.op('Concat', pieces, { axis: int(2) }), this.i64([0, c * k * k, ho, wo])]);
    const scatter = new Float32Array(c * k * k * k * k);
    for (let ch = 0; ch < c; ch++) for (let o = 0; o < k * k; o++) scatter[(ch * k * k + o) * k * k + o] = 1;
    const kernel = g.floatTensor('maxpool_scatter_kernel', [c * k * k, 1, k, k], scatter);
    return g.op('ConvTranspose', [stacked, kernel], convT);
  }
}

/** Builds the training-step model for a spec (see the module comment for the graph design). */
export function buildTrainingGraph(spec: ModelSpec, options: TrainingGraphOptions = {}): TrainingGraph {
  const valid = validateSpec(spec);
  const opset = checkOpset(options.opset ?? DEFAULT_OPSET, 'buildTrainingGraph');
  const params = paramInfos(valid);
  const classes = numClasses(valid);
  const g = new GraphBuilder();
  const [c, h, w] = valid.inputShape;
  g.input(INPUT_NAME, DataType.FLOAT, [BATCH_DIM, c, h, w]);
  g.input(LABELS_NAME, DataType.INT32, [BATCH_DIM]);
  if (!options.gradientsOnly) g.input(LR_NAME, DataType.FLOAT, []);
  for (const p of params) g.input(p.name, DataType.FLOAT, p.shape);

  const steps = buildForward(g, valid, INPUT_NAME, (p) => p.name, undefined, { nchwcBlock: options.nchwcBlock });
  const usesNchwc = steps.some((s) => s.layer.type === 'conv2d' && nchwcEligible(s.inputShape[0], s.layer.outChannels, options.nchwcBlock));
  const logits = steps[steps.length - 1].output;
  const bw = new Backward(g);

  // Loss and d(mean loss)/d(logits).
  const labels64 = g.op('Cast', [LABELS_NAME], { to: int(DataType.INT64) });
  g.reserve(LOSS_NAME);
  const [, logProb] = g.node('SoftmaxCrossEntropyLoss', [logits, labels64], { reduction: { s: 'mean' } }, { outputs: [LOSS_NAME, g.fresh('log_prob')] });
  const batch = g.op('Cast', [g.op('Gather', [g.op('Shape', [INPUT_NAME]), bw.i64([0], true)], { axis: int(0) })], { to: int(DataType.FLOAT) });
  const invN = g.op('Reciprocal', [batch]);
  const oneHot = g.op('OneHot', [labels64, bw.i64([classes], true), g.floatTensor('onehot_values', [2], [0, 1])], { axis: int(-1) });
  let grad = g.op('Mul', [g.op('Sub', [g.op('Exp', [logProb]), oneHot]), invN], {}, undefined);

  // Backward, last layer first. Input gradients stop below the first parameterised layer.
  const firstParam = steps.findIndex((s) => s.weight !== undefined);
  const grads = new Map<string, string>();
  for (let i = steps.length - 1; i >= 0 && i >= firstParam; i--) {
    const step = steps[i];
    const needInput = i > firstParam;
    switch (step.layer.type) {
      case 'dense':
      case 'conv2d': {
        const r = step.layer.type === 'dense' ? bw.dense(step, grad, needInput) : bw.conv(step, grad, needInput);
        grads.set(step.weightInfo!.name, r.dW);
        grads.set(step.biasInfo!.name, r.db);
        if (r.dX !== undefined) grad = r.dX;
        break;
      }
      case 'activation':
        grad = bw.activation(step, grad);
        break;
      case 'pool2d': {
        const prev = steps[i - 1];
        if (step.layer.mode === 'max' && prev?.layer.type === 'activation' && prev.layer.fn === 'relu' && i - 1 >= firstParam) {
          // relu -> max pool: only each window's maximum receives gradient, and there relu' =
          // [A > 0] = [pooled output > 0]; masking on the pooled grid (k^2 times smaller) is
          // exact and the relu step below is skipped.
          grad = g.op('Where', [g.op('Greater', [step.output, bw.zero]), grad, bw.zero]);
          grad = bw.pool(step, grad);
          i--;
          break;
        }
        grad = bw.pool(step, grad);
        break;
      }
      case 'flatten':
        grad = g.op('Reshape', [grad, g.op('Shape', [step.input])]);
        break;
    }
  }

  // SGD update and outputs.
  g.output(LOSS_NAME, DataType.FLOAT, []);
  const outputNames = [LOSS_NAME];
  for (const p of options.gradientsOnly ? [] : params) {
    const next = nextName(p.name);
    g.op('Sub', [p.name, g.op('Mul', [grads.get(p.name)!, LR_NAME])], {}, next);
    g.output(next, DataType.FLOAT, p.shape);
    outputNames.push(next);
  }
  if (options.gradients || options.gradientsOnly) {
    for (const p of params) {
      const name = gradName(p.name);
      g.op('Identity', [grads.get(p.name)!], {}, name);
      g.output(name, DataType.FLOAT, p.shape);
      outputNames.push(name);
    }
  }
  const bytes = encodeModel(g.graph(`${valid.name}_train_step`, `One SGD step of mean softmax cross-entropy for "${valid.name}"`), {
    opset,
    ...(usesNchwc ? { domains: { [NCHWC_DOMAIN]: 1 } } : {}),
    producerVersion: PACKAGE_VERSION,
    docString: 'Training step generated by @lenet/backend-onnxruntime (forward, loss, explicit backward, SGD update).',
    metadata: { 'lenet.format': 'lenet-bench/1 training-step', 'lenet.spec': JSON.stringify(valid) },
  });
  return {
    bytes,
    inputNames: [INPUT_NAME, LABELS_NAME, ...(options.gradientsOnly ? [] : [LR_NAME]), ...params.map((p) => p.name)],
    outputNames,
    params: params.map((p) => p.name),
  };
}
