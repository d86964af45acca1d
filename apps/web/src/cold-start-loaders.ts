/**
 * How each page backend (backends.ts ids) is reached by a user's first import, for the cold
 * start (cold-start.ts): only dynamic import()s, so importing this module loads no backend.
 * ort-web-webgl has none (the bundle lacks that EP; the row is unavailable).
 */
import type { Backend } from '@lenet/core';

const WASM_DIR = new URL(`${import.meta.env.BASE_URL}lenet-wasm/`, location.href).href;

/** How each page backend (backends.ts ids) is reached by a user's first import. */
export const COLD_START_LOADERS: Record<string, () => Promise<Backend>> = {
  'ort-web-wasm': async () => (await import('@lenet/backend-onnxruntime')).ortWebBackend,
  'ort-web-webgpu': async () => (await import('@lenet/backend-onnxruntime')).ortWebGpuBackend,
  'tfjs-wasm': async () => (await import('@lenet/backend-tfjs')).createTfjsWasmBackend({ wasmPaths: WASM_DIR }),
  'tfjs-cpu': async () => (await import('@lenet/backend-tfjs')).tfjsCpuBackend,
  'tfjs-webgl': async () => (await import('@lenet/backend-tfjs/gpu')).tfjsWebglBackend,
  'tfjs-webgpu': async () => (await import('@lenet/backend-tfjs/gpu')).tfjsWebgpuBackend,
  'tfjs-layers-wasm': async () => (await import('@lenet/backend-tfjs')).createTfjsLayersWasmBackend({ wasmPaths: WASM_DIR }),
  'tfjs-layers-webgl': async () => (await import('@lenet/backend-tfjs/gpu')).tfjsLayersWebglBackend,
  'jax-js-wasm': async () => (await import('@lenet/backend-jax')).jaxBackend,
  'jax-js-webgpu': async () => (await import('@lenet/backend-jax')).jaxWebgpuBackend,
  'plain-wasm': async () => (await import('@lenet/backend-plain')).plainBackend,
  'plain-js': async () => (await import('@lenet/backend-plain')).plainJsBackend,
};

