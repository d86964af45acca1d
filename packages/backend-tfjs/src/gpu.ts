/**
 * @lenet/backend-tfjs/gpu — the browser GPU backends: tfjs-webgl (@tensorflow/tfjs-backend-webgl)
 * and tfjs-webgpu (@tensorflow/tfjs-backend-webgpu), both optional peer dependencies loaded on
 * first use. A separate entry so that "." (used in Node and by bundles that never want a GPU)
 * does not reference them. Importing this module in Node is safe: the backends then report
 * themselves unavailable ("needs a browser").
 *
 * Both train and infer through the same TfjsNetwork as tfjs-cpu/-wasm (TF.js autograd), and
 * info() names the device (adapter) and whether it is a software fallback (SwiftShader etc.),
 * whose timings say nothing about a real GPU.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { GpuAdapterInfo, TrainingBackend } from '@lenet/core';
import { requestWebgpuAdapter, webglAdapterInfo } from '@lenet/core';
import { defineTfjsBackend } from './backend.js';
import { defineTfjsLayersBackend } from './layers.js';
import type { TfjsBackendOptions } from './backends.js';
import { missingPeer } from './peers.js';

function inBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined' || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';
}

interface WebGlBackendLike {
  gpgpu?: { gl?: Parameters<typeof webglAdapterInfo>[0] };
}

/**
 * tfjs-backend-webgl: kernels as WebGL2 fragment shaders over float textures. Convolution
 * gradients go through the Conv2D composites like on cpu (one code path, checked by the
 * conformance suite); pools use WebGL's own gradient kernels.
 */
export function createTfjsWebglBackend(options: TfjsBackendOptions = {}): TrainingBackend {
  return defineTfjsBackend({
    name: options.name ?? 'tfjs-webgl',
    description: 'TensorFlow.js 4.22, tfjs-backend-webgl (WebGL2 shaders); browsers only',
    tfBackend: 'webgl',
    ...(options.gradientKernels ? { gradientKernels: options.gradientKernels } : {}),
    async load() {
      if (!inBrowser()) throw new Error('tfjs-webgl needs a browser (WebGL); in Node use tfjs-cpu, tfjs-wasm or tfjs-node');
      const webgl = await import('@tensorflow/tfjs-backend-webgl').catch((e: unknown) => {
        throw missingPeer('@tensorflow/tfjs-backend-webgl', 'tfjs-webgl', e);
      });
      const probe = document.createElement('canvas').getContext('webgl2');
      if (!probe) throw new Error('this browser has no WebGL2 context (GPU disabled? Chromium without a GPU needs --enable-unsafe-swiftshader and no --disable-gpu)');
      probe.getExtension('WEBGL_lose_context')?.loseContext();
      return {
        versions: { '@tensorflow/tfjs-backend-webgl': webgl.version_webgl },
        details: () => {
          const env = tf.env();
          const float = env.getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32 render targets' : 'float16 render targets';
          return `WebGL${env.getNumber('WEBGL_VERSION')}, ${float}`;
        },
        adapter: (): GpuAdapterInfo => {
          const gl = (tf.findBackend('webgl') as WebGlBackendLike | null)?.gpgpu?.gl;
          if (!gl) throw new Error('tfjs-webgl: the WebGL backend has no GL context to describe');
          return webglAdapterInfo(gl);
        },
      };
    },
  });
}

/**
 * tfjs-backend-webgpu: WGSL compute shaders. The adapter is requested here as TF.js requests
 * its own (powerPreference high-performance), so the description is of the same device.
 */
export function createTfjsWebgpuBackend(options: TfjsBackendOptions = {}): TrainingBackend {
  return defineTfjsBackend({
    name: options.name ?? 'tfjs-webgpu',
    description: 'TensorFlow.js 4.22, tfjs-backend-webgpu (WGSL compute shaders); browsers with WebGPU only',
    tfBackend: 'webgpu',
    ...(options.gradientKernels ? { gradientKernels: options.gradientKernels } : {}),
    async load() {
      if (!inBrowser()) throw new Error('tfjs-webgpu needs a browser with WebGPU; in Node use tfjs-cpu, tfjs-wasm or tfjs-node');
      const adapter = await requestWebgpuAdapter('high-performance');
      if (typeof adapter === 'string') throw new Error(adapter);
      await import('@tensorflow/tfjs-backend-webgpu').catch((e: unknown) => {
        throw missingPeer('@tensorflow/tfjs-backend-webgpu', 'tfjs-webgpu', e);
      });
      return {
        // The package exports no version constant; it is a peer pinned to tfjs-core's version.
        versions: { '@tensorflow/tfjs-backend-webgpu': tf.version_core },
        details: () => 'WebGPU, float32',
        adapter: () => adapter,
      };
    },
  });
}

/**
 * tfjs-layers-webgl: the d2l model as TF.js users write it (tf.sequential + tf.layers +
 * trainOnBatch, layers.ts) on the stock webgl backend of @tensorflow/tfjs (which bundles
 * tfjs-backend-webgl): stock kernels and autodiff, nothing of this package's.
 */
export function createTfjsLayersWebglBackend(options: { name?: string } = {}): TrainingBackend {
  const name = options.name ?? 'tfjs-layers-webgl';
  return defineTfjsLayersBackend({
    name,
    description: 'TensorFlow.js 4.22 as users write it: tf.sequential + tf.layers + trainOnBatch, webgl backend (WebGL2 shaders), stock kernels; browsers only',
    tfBackend: 'webgl',
    async load(layersTf) {
      if (!inBrowser()) throw new Error(`${name} needs a browser (WebGL); in Node use tfjs-layers-cpu or tfjs-layers-wasm`);
      const probe = document.createElement('canvas').getContext('webgl2');
      if (!probe) throw new Error('this browser has no WebGL2 context (GPU disabled? Chromium without a GPU needs --enable-unsafe-swiftshader and no --disable-gpu)');
      probe.getExtension('WEBGL_lose_context')?.loseContext();
      return { '@tensorflow/tfjs-backend-webgl': layersTf.version['tfjs-backend-webgl'] };
    },
    async details(layersTf) {
      const env = layersTf.env();
      return `WebGL${env.getNumber('WEBGL_VERSION')}, ${env.getBool('WEBGL_RENDER_FLOAT32_ENABLED') ? 'float32' : 'float16'} render targets`;
    },
    adapter(layersTf) {
      const gl = (layersTf.findBackend('webgl') as WebGlBackendLike | null)?.gpgpu?.gl;
      if (!gl) throw new Error(`${name}: the WebGL backend has no GL context to describe`);
      return webglAdapterInfo(gl);
    },
  });
}

export const tfjsWebglBackend: TrainingBackend = createTfjsWebglBackend();
export const tfjsLayersWebglBackend: TrainingBackend = createTfjsLayersWebglBackend();
export const tfjsWebgpuBackend: TrainingBackend = createTfjsWebgpuBackend();

/** The GPU backends of this package. */
export const gpuBackends: TrainingBackend[] = [tfjsWebglBackend, tfjsWebgpuBackend];
