/**
 * A ModelSpec as a TF.js computation built from ops (no tfjs-layers), with an explicit
 * backward pass.
 *
 * Why an explicit backward pass instead of tf.grads/tf.variableGrads: the Node build of
 * tfjs-core (dist/tf-core.node.js) registers no gradient functions — they live in the ESM-only
 * dist/register_all_gradients.js, which Node cannot load from this package — so autodiff fails
 * with "gradient function not found". Writing the backward pass with the backends' gradient
 * kernels (Conv2DBackpropFilter/Input, AvgPoolGrad, MaxPoolGrad, MatMul) works everywhere, skips
 * the tape, skips the input gradient of the first layer, and lets each backend pick the fastest
 * kernel for the same math.
 *
 * Layout: activations are NHWC, conv filters HWIO, dense weights [in, out] (see layout.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ActivationFn, ModelSpec, Tensor as CanonicalTensor, Weights } from '@lenet/model';
import { inferShapes } from '@lenet/model';
import { denseFromTf, denseToTf, hwioToOihw, oihwToHwio } from './layout.js';
import {
  CONV2D_BACKPROP_FILTER_VIA_CONV2D,
  CONV2D_BACKPROP_INPUT_VIA_CONV2D,
  inputGradViaConv2DSupported,
} from './kernels/conv_via_conv2d.js';
import { avgPoolGrad, maxPoolGrad } from './kernels/pool_grads.js';

/** Which kernels compute the gradients (same math, different speed and correctness per backend). */
export interface GradientKernels {
  /**
   * 'native': the backend's Conv2DBackpropFilter kernel (on wasm: the one this package
   * registers); 'conv2d': the Conv2D composite (see kernels/conv_via_conv2d.ts).
   */
  filterGrad: 'native' | 'conv2d';
  /** 'native': Conv2DBackpropInput; 'conv2d': the Conv2D composite where it applies (stride 1). */
  inputGrad: 'native' | 'conv2d';
  /** 'native': the MaxPoolGrad kernel; 'composite': kernels/pool_grads.ts (wasm's kernel is wrong). */
  maxPoolGrad: 'native' | 'composite';
  /** 'native': the AvgPoolGrad kernel; 'composite': kernels/pool_grads.ts. */
  avgPoolGrad: 'native' | 'composite';
}

type Pad = 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvStep {
  kind: 'conv';
  name: string;
  /** Canonical OIHW shape. */
  shape: [number, number, number, number];
  stride: number;
  pad: Pad;
  /** NHWC input shape without batch: [H, W, C]. */
  inShape: [number, number, number];
  /** Activation applied inside the fused conv kernel, if the next layer is a fusable one. */
  fused: 'sigmoid' | 'relu' | null;
  inputGradViaConv2D: boolean;
}
interface DenseStep {
  kind: 'dense';
  name: string;
  /** Canonical [out, in]. */
  shape: [number, number];
  /** [C, H, W] of the activation flattened into this layer (weight rows are permuted). */
  flattenedFrom?: [number, number, number];
  fused: 'sigmoid' | 'relu' | null;
}
interface ActStep {
  kind: 'activation';
  fn: ActivationFn;
  /** Already applied by the preceding conv/dense kernel. */
  fused: boolean;
}
interface PoolStep {
  kind: 'pool';
  mode: 'avg' | 'max';
  size: number;
  stride: number;
}
interface FlattenStep {
  kind: 'flatten';
  /** NHWC shape without batch. */
  inShape: [number, number, number];
}
type Step = ConvStep | DenseStep | ActStep | PoolStep | FlattenStep;

/** A copy: backends may hand out (cpu) or keep (cpu) the very array they were given. */
const copy = (d: Float32Array): Float32Array => d.slice();

const FUSABLE: ReadonlySet<ActivationFn> = new Set<ActivationFn>(['sigmoid', 'relu']);

function buildPlan(spec: ModelSpec): Step[] {
  const infos = inferShapes(spec);
  const steps: Step[] = [];
  let convCount = 0;
  let denseCount = 0;
  let flattenedFrom: [number, number, number] | undefined;
  spec.layers.forEach((layer, index) => {
    const info = infos[index];
    const next = spec.layers[index + 1];
    const fusable = next?.type === 'activation' && FUSABLE.has(next.fn) ? (next.fn as 'sigmoid' | 'relu') : null;
    switch (layer.type) {
      case 'conv2d': {
        convCount++;
        const [c, h, w] = info.inputShape;
        const p = layer.padding ?? 0;
        const pad: Pad = p === 0 ? 'valid' : [[0, 0], [p, p], [p, p], [0, 0]];
        const shape: [number, number, number, number] = [layer.outChannels, c, layer.kernelSize, layer.kernelSize];
        const stride = layer.stride ?? 1;
        steps.push({
          kind: 'conv',
          name: layer.name ?? `conv${convCount}`,
          shape,
          stride,
          pad,
          inShape: [h, w, c],
          fused: fusable,
          inputGradViaConv2D: inputGradViaConv2DSupported([1, h, w, c], [shape[2], shape[3], c, shape[0]], stride, pad),
        });
        break;
      }
      case 'dense': {
        denseCount++;
        const step: DenseStep = {
          kind: 'dense',
          name: layer.name ?? `fc${denseCount}`,
          shape: [layer.units, info.inputShape[0]],
          fused: fusable,
        };
        if (flattenedFrom !== undefined) step.flattenedFrom = flattenedFrom;
        flattenedFrom = undefined;
        steps.push(step);
        break;
      }
      case 'activation': {
        const prev = steps[steps.length - 1];
        const fused = (prev?.kind === 'conv' || prev?.kind === 'dense') && prev.fused === layer.fn;
        steps.push({ kind: 'activation', fn: layer.fn, fused });
        break;
      }
      case 'pool2d':
        steps.push({ kind: 'pool', mode: layer.mode, size: layer.kernelSize, stride: layer.stride ?? layer.kernelSize });
        break;
      case 'flatten': {
        const [c, h, w] = info.inputShape.length === 3 ? info.inputShape : [info.inputShape[0], 1, 1];
        // Only a real [C,H,W] with C > 1 and H*W > 1 needs the row permutation.
        if (c > 1 && h * w > 1) flattenedFrom = [c, h, w];
        steps.push({ kind: 'flatten', inShape: [h, w, c] });
        break;
      }
    }
  });
  return steps;
}

interface Param {
  name: string;
  variable: tf.Variable;
  /** Canonical shape. */
  shape: number[];
  toTf(data: Float32Array): Float32Array;
  fromTf(data: Float32Array): Float32Array;
}

function activate(fn: ActivationFn, x: tf.Tensor): tf.Tensor {
  switch (fn) {
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'relu':
      return tf.relu(x);
    case 'tanh':
      return tf.tanh(x);
  }
}

/** act'(x) of y = act(x), from the output y. */
function activationDerivative(fn: ActivationFn, y: tf.Tensor): tf.Tensor {
  switch (fn) {
    case 'sigmoid':
      return tf.mul(y, tf.sub(1, y));
    case 'relu':
      return tf.step(y);
    case 'tanh':
      return tf.sub(1, tf.square(y));
  }
}

/** dL/dx of y = act(x), from the output y. */
function activationGrad(fn: ActivationFn, y: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  return tf.mul(dy, activationDerivative(fn, y));
}

/**
 * Sum of dy over every axis but the last (the bias gradient), as one Sum over axis 0 of
 * [rows, C]. (A ones[1, rows] x dy MatMul is ~4x slower on wasm: XNNPACK repacks dy, a new
 * right-hand operand every step.)
 */
function sumOverRows(dy: tf.Tensor): tf.Tensor1D {
  const c = dy.shape[dy.rank - 1];
  return tf.sum(tf.reshape(dy, [dy.size / c, c]), 0);
}

export class TfjsNetwork {
  readonly spec: ModelSpec;
  private readonly steps: Step[];
  private readonly params: Param[] = [];
  /** Params by step index (weight, bias) for conv/dense steps. */
  private readonly stepParams = new Map<number, [Param, Param]>();
  private readonly inputShape: [number, number, number];
  private readonly classes: number;
  private readonly gradientKernels: GradientKernels;
  private disposed = false;

  constructor(spec: ModelSpec, weights: Weights, gradientKernels: GradientKernels) {
    this.spec = spec;
    this.steps = buildPlan(spec);
    this.inputShape = spec.inputShape;
    this.gradientKernels = gradientKernels;
    let classes = 0;
    this.steps.forEach((step, index) => {
      if (step.kind === 'conv') {
        const [o, i, kh, kw] = step.shape;
        const w = this.makeParam(`${step.name}.weight`, step.shape, [kh, kw, i, o], weights,
          (d) => oihwToHwio(d, step.shape), (d) => hwioToOihw(d, step.shape));
        const b = this.makeParam(`${step.name}.bias`, [o], [o], weights, copy, copy);
        this.stepParams.set(index, [w, b]);
      } else if (step.kind === 'dense') {
        const [out, inF] = step.shape;
        const w = this.makeParam(`${step.name}.weight`, step.shape, [inF, out], weights,
          (d) => denseToTf(d, step.shape, step.flattenedFrom), (d) => denseFromTf(d, step.shape, step.flattenedFrom));
        const b = this.makeParam(`${step.name}.bias`, [out], [out], weights, copy, copy);
        this.stepParams.set(index, [w, b]);
        classes = out;
      }
    });
    this.classes = classes;
  }

  private makeParam(
    name: string,
    shape: number[],
    tfShape: number[],
    weights: Weights,
    toTf: (d: Float32Array) => Float32Array,
    fromTf: (d: Float32Array) => Float32Array,
  ): Param {
    const canonical = weights.get(name) as CanonicalTensor; // validated by the caller
    // toTf always returns a fresh array: the cpu backend keeps the array it is given, and the
    // caller's weights must not be retained.
    const initial = tf.tensor(toTf(canonical.data), tfShape, 'float32');
    const variable = tf.variable(initial, true, undefined, 'float32');
    initial.dispose();
    const param: Param = { name, variable, shape: shape.slice(), toTf, fromTf };
    this.params.push(param);
    return param;
  }

  /** n NCHW images -> an NHWC tensor (reads only the first n images of x). */
  private input(x: Float32Array, n: number): tf.Tensor4D {
    const [c, h, w] = this.inputShape;
    const data = x.length === n * c * h * w ? x : x.subarray(0, n * c * h * w);
    if (c === 1) return tf.tensor4d(data, [n, h, w, 1], 'float32');
    return tf.transpose(tf.tensor4d(data, [n, c, h, w], 'float32'), [0, 2, 3, 1]);
  }

  private forwardStep(index: number, x: tf.Tensor): tf.Tensor {
    const step = this.steps[index];
    switch (step.kind) {
      case 'conv': {
        const [w, b] = this.stepParams.get(index)!;
        return tf.fused.conv2d({
          x: x as tf.Tensor4D,
          filter: w.variable as tf.Tensor4D,
          strides: step.stride,
          pad: step.pad,
          bias: b.variable,
          activation: step.fused ?? 'linear',
        });
      }
      case 'dense': {
        const [w, b] = this.stepParams.get(index)!;
        return tf.fused.matMul({
          a: x as tf.Tensor2D,
          b: w.variable as tf.Tensor2D,
          bias: b.variable,
          activation: step.fused ?? 'linear',
        });
      }
      case 'activation':
        return step.fused ? x : activate(step.fn, x);
      case 'pool':
        return step.mode === 'avg'
          ? tf.avgPool(x as tf.Tensor4D, step.size, step.stride, 'valid')
          : tf.maxPool(x as tf.Tensor4D, step.size, step.stride, 'valid');
      case 'flatten':
        return tf.reshape(x, [x.shape[0], -1]);
    }
  }

  /** Logits for n images; the caller owns the returned tensor. */
  predictTensor(x: Float32Array, n: number): tf.Tensor2D {
    this.checkLive();
    return tf.tidy(() => {
      let a: tf.Tensor = this.input(x, n);
      for (let i = 0; i < this.steps.length; i++) a = this.forwardStep(i, a);
      return a as tf.Tensor2D;
    });
  }

  /**
   * One SGD step on mean softmax cross-entropy; returns the mean loss tensor (a scalar the
   * caller reads and disposes). Every intermediate is freed by tidy; the variables keep their
   * new values.
   */
  trainStepTensor(x: Float32Array, y: Int32Array, n: number, lr: number): tf.Scalar {
    this.checkLive();
    return tf.tidy(() => {
      // The backward pass is linear in its seed: seeding it with lr times d(mean CE)/d logits
      // makes every parameter gradient arrive already scaled by the learning rate, so each SGD
      // update is one Sub (about a dozen fewer ops per step).
      const { loss, updates } = this.lossAndGradients(x, y, n, lr === 0 ? null : lr / n);
      for (const [param, scaledGrad] of updates) param.variable.assign(tf.sub(param.variable, scaledGrad));
      return loss;
    });
  }

  /**
   * The mean loss and d(mean loss)/d(param) of every parameter, in the order of `tfParams()`
   * (TF layouts), for a data-parallel chunk; the caller owns and disposes the tensors.
   */
  lossAndGradientTensors(x: Float32Array, y: Int32Array, n: number): { loss: tf.Scalar; grads: tf.Tensor[] } {
    this.checkLive();
    const out = tf.tidy(() => {
      const { loss, updates } = this.lossAndGradients(x, y, n, 1 / n);
      const byParam = new Map(updates.map(([p, g]) => [p, g]));
      return [loss, ...this.params.map((p) => byParam.get(p)!)];
    });
    return { loss: out[0] as tf.Scalar, grads: out.slice(1) };
  }

  /** The parameters' current values in TF layouts (HWIO, [in, out]), in a fixed order. */
  tfParams(): Float32Array[] {
    this.checkLive();
    return this.params.map((p) => p.variable.dataSync() as Float32Array);
  }

  /** Floats of all parameters together. */
  get paramCount(): number {
    return this.params.reduce((a, p) => a + p.variable.size, 0);
  }

  /** Sets the parameters from values in the order and layouts of tfParams() (one array, or one per parameter). */
  setTfParams(values: Float32Array | readonly Float32Array[]): void {
    this.checkLive();
    let off = 0;
    this.params.forEach((p, i) => {
      const size = p.variable.size;
      const data = values instanceof Float32Array ? values.subarray(off, off + size) : values[i]!;
      off += size;
      tf.tidy(() => p.variable.assign(tf.tensor(data, p.variable.shape, 'float32')));
    });
  }

  /**
   * Forward pass, loss and backward pass; `seedScale` multiplies (softmax - onehot), the
   * gradient of the summed loss (1/n: mean-loss gradients; lr/n: gradients scaled for SGD;
   * null: loss only). Call inside tidy.
   */
  private lossAndGradients(x: Float32Array, y: Int32Array, n: number, seedScale: number | null): { loss: tf.Scalar; updates: [Param, tf.Tensor][] } {
    const acts: tf.Tensor[] = [this.input(x, n)];
    for (let i = 0; i < this.steps.length; i++) acts.push(this.forwardStep(i, acts[i]));
    const logits = acts[acts.length - 1];
    const labels = tf.tensor1d(y.length === n ? y : y.subarray(0, n), 'int32');
    const oneHot = tf.oneHot(labels, this.classes);
    const logp = tf.logSoftmax(logits);
    const loss = tf.mul(tf.sum(tf.mul(oneHot, logp)), -1 / n) as tf.Scalar;
    const updates: [Param, tf.Tensor][] = [];
    if (seedScale === null) return { loss, updates };
    let grad: tf.Tensor = tf.mul(tf.sub(tf.exp(logp), oneHot), seedScale);
    const firstParamStep = this.steps.findIndex((s) => s.kind === 'conv' || s.kind === 'dense');
    for (let i = this.steps.length - 1; i >= firstParamStep; i--) {
      const pool = this.steps[i];
      const act = this.steps[i - 1];
      if (pool.kind === 'pool' && act?.kind === 'activation') {
        // activation -> pool: the pool composites also apply the activation's derivative,
        // with fewer full-size ops than the two steps apart (see pool_grads.ts).
        const [x, y] = [acts[i] as tf.Tensor4D, acts[i + 1] as tf.Tensor4D];
        if (pool.mode === 'max' && this.gradientKernels.maxPoolGrad === 'composite' && act.fn === 'relu') {
          grad = maxPoolGrad(x, y, grad as tf.Tensor4D, pool.size, pool.stride, { relu: true });
          i--; // the activation is done
          continue;
        }
        if (pool.mode === 'avg' && this.gradientKernels.avgPoolGrad === 'composite') {
          const scale = activationDerivative(act.fn, x) as tf.Tensor4D;
          grad = avgPoolGrad(x.shape, grad as tf.Tensor4D, pool.size, pool.stride, scale);
          i--;
          continue;
        }
      }
      grad = this.backwardStep(i, acts[i], acts[i + 1], grad, i > firstParamStep, updates);
    }
    return { loss, updates };
  }

  /** Backward through step i: returns dL/d(input of step i) (unused when !needInputGrad). */
  private backwardStep(
    index: number,
    x: tf.Tensor,
    y: tf.Tensor,
    dy: tf.Tensor,
    needInputGrad: boolean,
    updates: [Param, tf.Tensor][],
  ): tf.Tensor {
    const step = this.steps[index];
    switch (step.kind) {
      case 'activation':
        return activationGrad(step.fn, y, dy);
      case 'pool': {
        const { size, stride } = step;
        const attrs = { filterSize: [size, size], strides: [stride, stride], pad: 'valid' };
        if (step.mode === 'avg') {
          return this.gradientKernels.avgPoolGrad === 'composite'
            ? avgPoolGrad(x.shape, dy as tf.Tensor4D, size, stride)
            : (tf.engine().runKernel(tf.AvgPoolGrad, { dy, input: x }, attrs) as tf.Tensor);
        }
        return this.gradientKernels.maxPoolGrad === 'composite'
          ? maxPoolGrad(x as tf.Tensor4D, y as tf.Tensor4D, dy as tf.Tensor4D, size, stride)
          : (tf.engine().runKernel(tf.MaxPoolGrad, { dy, input: x, output: y }, attrs) as tf.Tensor);
      }
      case 'flatten':
        return tf.reshape(dy, [dy.shape[0], ...step.inShape]);
      case 'dense': {
        const [w, b] = this.stepParams.get(index)!;
        // Explicit transposes: wasm's BatchMatMul with transposeA/transposeB takes a slow path
        // (about 20x slower than Transpose + plain MatMul at these sizes).
        updates.push([w, tf.matMul(tf.transpose(x), dy)], [b, sumOverRows(dy)]);
        return needInputGrad ? tf.matMul(dy, tf.transpose(w.variable)) : dy;
      }
      case 'conv': {
        const [w, b] = this.stepParams.get(index)!;
        const [o, i, kh, kw] = step.shape;
        const common = { strides: step.stride, pad: step.pad, dataFormat: 'NHWC' };
        const filterKernel =
          this.gradientKernels.filterGrad === 'conv2d' ? CONV2D_BACKPROP_FILTER_VIA_CONV2D : tf.Conv2DBackpropFilter;
        const dW = tf.engine().runKernel(filterKernel, { x, dy }, { ...common, filterShape: [kh, kw, i, o] });
        updates.push([w, dW as tf.Tensor], [b, sumOverRows(dy)]);
        if (!needInputGrad) return dy;
        const inputKernel =
          this.gradientKernels.inputGrad === 'conv2d' && step.inputGradViaConv2D
            ? CONV2D_BACKPROP_INPUT_VIA_CONV2D
            : tf.Conv2DBackpropInput;
        return tf.engine().runKernel(inputKernel, { dy, filter: w.variable }, { ...common, inputShape: x.shape }) as tf.Tensor;
      }
    }
  }

  /** Current parameters in canonical layout and order. */
  async getWeights(): Promise<Weights> {
    this.checkLive();
    const out: Weights = new Map();
    for (const p of this.params) {
      const data = (await p.variable.data()) as Float32Array;
      out.set(p.name, { shape: p.shape.slice(), data: p.fromTf(data) });
    }
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.params) p.variable.dispose();
  }

  private checkLive(): void {
    if (this.disposed) throw new Error('TfjsNetwork: used after dispose()');
  }
}
