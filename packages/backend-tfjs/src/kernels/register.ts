/**
 * Registration of the training kernels this package adds to TF.js backends.
 * One list, registered once per backend; an already-registered kernel is never replaced.
 */
import { Conv2DBackpropFilter, getKernel, registerKernel } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterViaConv2D, convViaConv2DKernelConfigs } from './conv_via_conv2d.js';

/**
 * Registers a Conv2DBackpropFilter kernel for tfjs-backend-wasm, which lacks one
 * (tensorflow/tfjs#8474), built from the wasm backend's own Transpose/Conv2D/Slice kernels
 * (XNNPACK), so conv-net training stays inside WASM. Works with tf.grads / tfjs-layers too.
 * Safe to call more than once and before or after the wasm backend is initialised.
 * Returns true if it registered the kernel, false if one was already registered
 * (e.g. a future tfjs-backend-wasm release ships its own).
 */
export function registerWasmConv2DBackpropFilter(): boolean {
  if (getKernel(Conv2DBackpropFilter, 'wasm') !== undefined) return false;
  registerKernel({
    kernelName: Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilterViaConv2D('wasm'),
  });
  return true;
}

/**
 * Registers this package's composite gradient kernels (filter and input gradients of a
 * convolution computed with Conv2D) for `backendName` under their own kernel names; the
 * training step calls them when its strategy says so. Idempotent.
 */
export function registerConvViaConv2DKernels(backendName: string): void {
  for (const config of convViaConv2DKernelConfigs(backendName)) {
    if (getKernel(config.kernelName, backendName) === undefined) registerKernel(config);
  }
}
