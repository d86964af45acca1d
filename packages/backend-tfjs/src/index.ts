/**
 * @lenet/backend-tfjs — LeNet on TensorFlow.js behind the @lenet/core backend contract:
 * tfjs-cpu and tfjs-wasm (both train and infer; wasm training via the Conv2DBackpropFilter
 * kernel registered here), tfjs-node when installed, and any other TF.js backend (webgl,
 * webgpu in browsers) through defineTfjsBackend; and tfjs-layers-cpu / tfjs-layers-wasm, the
 * same model as TF.js users write it (tf.sequential + tf.layers). Browser-safe: backend packages load lazily.
 */
export {
  backends,
  createTfjsCpuBackend,
  createTfjsNodeBackend,
  createTfjsWasmBackend,
  tfjsCpuBackend,
  tfjsNodeBackend,
  tfjsWasmBackend,
} from './backends.js';
export type { TfjsBackendOptions, TfjsWasmOptions } from './backends.js';
export {
  createTfjsLayersCpuBackend,
  createTfjsLayersWasmBackend,
  lenetLayers,
  tfjsLayersCpuBackend,
  tfjsLayersWasmBackend,
  TfjsLayersSession,
} from './layers.js';
export type { TfjsLayersWasmOptions } from './layers.js';
export { defineTfjsBackend } from './backend.js';
export type { LoadedTfjsBackend, TfjsBackendDefinition } from './backend.js';
export { registerConvViaConv2DKernels, registerWasmConv2DBackpropFilter } from './kernels/register.js';
export {
  CONV2D_BACKPROP_FILTER_VIA_CONV2D,
  CONV2D_BACKPROP_INPUT_VIA_CONV2D,
  conv2DBackpropFilterViaConv2D,
  conv2DBackpropInputViaConv2D,
} from './kernels/conv_via_conv2d.js';
export { TfjsNetwork } from './network.js';
export type { GradientKernels } from './network.js';
export { denseFromTf, denseToTf, hwcToChwIndex, hwioToOihw, oihwToHwio } from './layout.js';
