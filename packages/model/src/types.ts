/**
 * The JSON-serialisable LeNet model description every package speaks.
 * Canonical tensor layouts follow PyTorch/ONNX: conv weight [out, in, kH, kW], dense weight
 * [out, in], bias [out]. Images are NCHW Float32Array scaled to [0, 1].
 */

export type ActivationFn = 'sigmoid' | 'relu' | 'tanh';
export type PoolMode = 'avg' | 'max';

export interface Conv2dLayer {
  type: 'conv2d';
  /** Parameter prefix; defaults to conv1, conv2, … in order of appearance. */
  name?: string;
  outChannels: number;
  kernelSize: number;
  /** Default 1. */
  stride?: number;
  /** Symmetric zero padding on H and W. Default 0. */
  padding?: number;
}

export interface ActivationLayer {
  type: 'activation';
  fn: ActivationFn;
}

export interface Pool2dLayer {
  type: 'pool2d';
  mode: PoolMode;
  kernelSize: number;
  /** Default = kernelSize. */
  stride?: number;
}

export interface FlattenLayer {
  type: 'flatten';
}

export interface DenseLayer {
  type: 'dense';
  /** Parameter prefix; defaults to fc1, fc2, … in order of appearance. */
  name?: string;
  units: number;
}

export type LayerSpec = Conv2dLayer | ActivationLayer | Pool2dLayer | FlattenLayer | DenseLayer;

export interface ModelSpec {
  /** Human-readable name, e.g. "lenet5". */
  name: string;
  /** [channels, height, width], e.g. [1, 28, 28]. */
  inputShape: [number, number, number];
  /** Ordered layers; the last dense layer's units is the number of classes. */
  layers: LayerSpec[];
}

/** A dense float32 tensor in row-major (C) order. */
export interface Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * Named parameters, in the spec's canonical order (conv1.weight, conv1.bias, …, fc3.bias).
 * A Map keeps the order explicit.
 */
export type Weights = Map<string, Tensor>;

/** A parameter the spec declares: its canonical name and shape. */
export interface ParamInfo {
  name: string;
  shape: number[];
  /** Index of the owning layer in spec.layers. */
  layerIndex: number;
  kind: 'weight' | 'bias';
}
