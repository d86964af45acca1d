/**
 * The page's GPU backends, all through the @lenet/core contract like every other row:
 * tfjs-webgl and tfjs-webgpu from @lenet/backend-tfjs/gpu, ort-web-webgpu from
 * @lenet/backend-onnxruntime (the same onnxruntime-web instance as ort-web), tfjs-layers-webgl
 * (tf.layers on stock webgl, @lenet/backend-tfjs/gpu) and jax-js-webgpu (@lenet/backend-jax's
 * webgpu device). Each reports its
 * adapter and whether it is a software fallback (SwiftShader when Chromium has no GPU); the
 * table marks those timings as not representative.
 */
import { ortWebGpuBackend } from '@lenet/backend-onnxruntime';
import { tfjsLayersWebglBackend, tfjsWebglBackend, tfjsWebgpuBackend } from '@lenet/backend-tfjs/gpu';
import { jaxWebgpuBackend } from '@lenet/backend-jax';
import type { Backend } from '@lenet/core';

export interface GpuBackendEntry {
  id: string;
  family: 'ort-web' | 'tfjs' | 'jax-js';
  label: string;
  package: string;
  backend: Backend;
}

export const GPU_BACKENDS: GpuBackendEntry[] = [
  { id: 'ort-web-webgpu', family: 'ort-web', label: 'ort-web · webgpu', package: '@lenet/backend-onnxruntime', backend: ortWebGpuBackend },
  { id: 'tfjs-webgl', family: 'tfjs', label: 'TF.js · webgl', package: '@lenet/backend-tfjs/gpu', backend: tfjsWebglBackend },
  { id: 'tfjs-webgpu', family: 'tfjs', label: 'TF.js · webgpu', package: '@lenet/backend-tfjs/gpu', backend: tfjsWebgpuBackend },
  { id: 'tfjs-layers-webgl', family: 'tfjs', label: 'TF.js tf.layers · webgl (stock)', package: '@lenet/backend-tfjs/gpu', backend: tfjsLayersWebglBackend },
  { id: 'jax-js-webgpu', family: 'jax-js', label: 'jax-js · webgpu', package: '@lenet/backend-jax', backend: jaxWebgpuBackend },
];

/** What the results table shows next to a GPU row's runtime. */
export function adapterNote(r: { adapter?: string | null; softwareFallback?: boolean | null }): string {
  if (!r.adapter) return '';
  return `${r.adapter}${r.softwareFallback ? ' — software fallback, timings not representative' : ''}`;
}
