/**
 * The concrete TF.js backends. Each factory only says how to load and configure its TF.js
 * backend package; packages are imported lazily, so importing @lenet/backend-tfjs loads no
 * backend and is safe in browsers.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainingBackend } from '@lenet/core';
import type { TfjsBackendDefinition } from './backend.js';
import { defineTfjsBackend, isNode, nodeWasmDir } from './backend.js';
import { registerWasmConv2DBackpropFilter } from './kernels/register.js';
import type { GradientKernels } from './network.js';
import { tfjsLayersCpuBackend, tfjsLayersWasmBackend } from './layers.js';
import { missingPeer } from './peers.js';

export interface TfjsBackendOptions {
  /** Contract name override (e.g. to register two variants side by side). */
  name?: string;
  /** Kernels for the convolution gradients; see GradientKernels. */
  gradientKernels?: Partial<GradientKernels>;
}

function withOptions(def: TfjsBackendDefinition, options: TfjsBackendOptions): TrainingBackend {
  return defineTfjsBackend({
    ...def,
    name: options.name ?? def.name,
    gradientKernels: { ...def.gradientKernels, ...options.gradientKernels },
  });
}

/**
 * tfjs-backend-cpu: plain JavaScript kernels. Its Conv2DBackpropFilter is a naive loop about
 * 50x slower than its own Conv2D doing the same multiply-adds, so by default the filter (and
 * input) gradients go through the Conv2D composites; pass
 * `gradientKernels: { filterGrad: 'native', inputGrad: 'native' }` for TF.js's stock gradient
 * kernels (what tf.layers training uses).
 */
export function createTfjsCpuBackend(options: TfjsBackendOptions = {}): TrainingBackend {
  return withOptions(
    {
      name: 'tfjs-cpu',
      description: 'TensorFlow.js 4.22, tfjs-backend-cpu (plain JavaScript kernels)',
      tfBackend: 'cpu',
      dataParallel: { factory: 'cpu', options: { name: options.name, gradientKernels: options.gradientKernels } },
      async load() {
        const cpu = await import('@tensorflow/tfjs-backend-cpu').catch((e: unknown) => {
          throw missingPeer('@tensorflow/tfjs-backend-cpu', 'tfjs-cpu', e);
        });
        return { versions: { '@tensorflow/tfjs-backend-cpu': cpu.version_cpu } };
      },
    },
    options,
  );
}

export interface TfjsWasmOptions extends TfjsBackendOptions {
  /**
   * Where the .wasm binaries are served from: a directory (path or URL ending in '/') or a map
   * from binary name to URL, as tfjs-backend-wasm's setWasmPaths takes. Default in Node: the
   * installed package's dist/ folder. Browsers (bundlers) usually must pass this.
   */
  wasmPaths?: string | Record<string, string>;
}

/**
 * tfjs-backend-wasm (XNNPACK). Training works because this package registers the missing
 * Conv2DBackpropFilter kernel (registerWasmConv2DBackpropFilter). In Node, tfjs-backend-wasm
 * 4.22 always loads the single-threaded SIMD binary: it reports no multithread support under
 * Node (tfjs#3830) and its threaded build starts workers from blob: URLs, which Node rejects.
 * SessionOptions.threads is passed to setThreadsCount (effective in cross-origin-isolated
 * browsers only, and capped there at half the logical cores by tfjs-backend-wasm itself) and
 * only before the first initialisation.
 */
export function createTfjsWasmBackend(options: TfjsWasmOptions = {}): TrainingBackend {
  return withOptions(
    {
      name: 'tfjs-wasm',
      description: 'TensorFlow.js 4.22, tfjs-backend-wasm (XNNPACK, SIMD), with a Conv2DBackpropFilter kernel for training',
      tfBackend: 'wasm',
      // One thread in Node (above): training on more runs batch chunks on worker threads.
      dataParallel: { factory: 'wasm', options: { name: options.name, gradientKernels: options.gradientKernels, wasmPaths: options.wasmPaths } },
      // wasm's MaxPoolGrad is wrong for windows without a positive value (see pool_grads.ts).
      gradientKernels: { maxPoolGrad: 'composite', avgPoolGrad: 'composite' },
      async load(sessionOptions) {
        const wasm = await import('@tensorflow/tfjs-backend-wasm').catch((e: unknown) => {
          throw missingPeer('@tensorflow/tfjs-backend-wasm', 'tfjs-wasm', e);
        });
        const paths = options.wasmPaths ?? nodeWasmDir();
        if (paths !== undefined) wasm.setWasmPaths(paths);
        if (sessionOptions.threads !== undefined) wasm.setThreadsCount(sessionOptions.threads);
        registerWasmConv2DBackpropFilter();
        const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
        const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
        return {
          versions: { '@tensorflow/tfjs-backend-wasm': wasm.version_wasm },
          threads: () => wasm.getThreadsCount(),
          details: () => {
            const n = wasm.getThreadsCount();
            return `${simd ? 'simd' : 'no simd'}${threaded ? ', threaded build' : ''}, ${n} thread${n === 1 ? '' : 's'}`;
          },
        };
      },
    },
    options,
  );
}

const TFJS_NODE = '@tensorflow/tfjs-node';

/**
 * @tensorflow/tfjs-node (libtensorflow), offered only when it is installed: it is imported
 * dynamically by a name the bundler/TypeScript cannot see, so nothing requires it.
 */
export function createTfjsNodeBackend(options: TfjsBackendOptions = {}): TrainingBackend {
  return withOptions(
    {
      name: 'tfjs-node',
      description: 'TensorFlow.js 4.22, @tensorflow/tfjs-node (libtensorflow C++), when installed',
      tfBackend: 'tensorflow',
      // libtensorflow has fast native gradient kernels.
      gradientKernels: { filterGrad: 'native', inputGrad: 'native' },
      async load() {
        if (!isNode()) throw new Error('tfjs-node runs in Node.js only');
        let mod: { version?: Record<string, string> };
        try {
          const specifier: string = TFJS_NODE;
          mod = (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as typeof mod;
        } catch (e) {
          throw new Error(
            `${TFJS_NODE} is not installed (optional; it cannot be installed on every machine): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`,
          );
        }
        if (tf.findBackendFactory('tensorflow') === null) {
          throw new Error(
            `${TFJS_NODE} loaded but registered its backend with another copy of @tensorflow/tfjs-core ` +
              `(this package uses ${tf.version_core}); install a matching tfjs-node so both share one tfjs-core`,
          );
        }
        return { versions: { [TFJS_NODE]: mod.version?.['tfjs-node'] ?? 'unknown' } };
      },
    },
    options,
  );
}

export const tfjsCpuBackend: TrainingBackend = createTfjsCpuBackend();
export const tfjsWasmBackend: TrainingBackend = createTfjsWasmBackend();
export const tfjsNodeBackend: TrainingBackend = createTfjsNodeBackend();

/**
 * All backends of this package (tfjs-node reports itself unavailable unless installed): our
 * drivers, then TF.js as its users write it (tf.layers, layers.ts).
 */
export const backends: TrainingBackend[] = [tfjsCpuBackend, tfjsWasmBackend, tfjsNodeBackend, tfjsLayersCpuBackend, tfjsLayersWasmBackend];
