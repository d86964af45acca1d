/**
 * The page's GPU backends, all through the @lenet/core contract like every other row:
 * tfjs-webgl and tfjs-webgpu from @lenet/backend-tfjs/gpu, ort-web-webgpu from
 * @lenet/backend-onnxruntime (the same onnxruntime-web instance as ort-web). Each reports its
 * adapter and whether it is a software fallback (SwiftShader when Chromium has no GPU); the
 * table marks those timings as not representative.
 */
import { ortWebGpuBackend } from '@lenet/backend-onnxruntime';
import { tfjsWebglBackend, tfjsWebgpuBackend } from '@lenet/backend-tfjs/gpu';
import type { Backend } from '@lenet/core';

export interface GpuBackendEntry {
  id: string;
  family: 'ort-web' | 'tfjs';
  label: string;
  package: string;
  backend: Backend;
}

export const GPU_BACKENDS: GpuBackendEntry[] = [
  { id: 'ort-web-webgpu', family: 'ort-web', label: 'ort-web · webgpu', package: '@lenet/backend-onnxruntime', backend: ortWebGpuBackend },
  { id: 'tfjs-webgl', family: 'tfjs', label: 'TF.js · webgl', package: '@lenet/backend-tfjs/gpu', backend: tfjsWebglBackend },
  { id: 'tfjs-webgpu', family: 'tfjs', label: 'TF.js · webgpu', package: '@lenet/backend-tfjs/gpu', backend: tfjsWebgpuBackend },
];

/** What the results table shows next to a GPU row's runtime. */
export function adapterNote(r: { adapter?: string | null; softwareFallback?: boolean | null }): string {
  if (!r.adapter) return '';
  return `${r.adapter}${r.softwareFallback ? ' — software fallback, timings not representative' : ''}`;
}
