/**
 * ort-web: ONNX Runtime compiled to WebAssembly through onnxruntime-web, an optional peer
 * dependency loaded lazily on first use.
 */
import type { Backend, BackendInfo, SessionOptions } from '@lenet/core';
import { BackendInputError } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import type { OrtModule } from './session.js';
import { OrtSession } from './session.js';
import { checkThreads, missingRuntime } from './runtime-deps.js';

type OrtWebModule = OrtModule & {
  env: { versions: Record<string, string>; wasm: { numThreads?: number; simd?: boolean | string; proxy?: boolean } };
};
let ortWebPromise: Promise<OrtWebModule> | undefined;
/** Thread count the wasm runtime was initialised with (fixed for the life of the process/page). */
let ortWebThreads: number | undefined;

function loadOrtWeb(): Promise<OrtWebModule> {
  ortWebPromise ??= import('onnxruntime-web').then(
    (m) => ((m as unknown as { default?: OrtWebModule }).default?.InferenceSession ? (m as unknown as { default: OrtWebModule }).default : (m as unknown as OrtWebModule)),
    (e: unknown) => {
      throw missingRuntime('onnxruntime-web', 'ort-web', e);
    },
  );
  ortWebPromise.catch(() => (ortWebPromise = undefined));
  return ortWebPromise;
}

/**
 * onnxruntime-web initialises its wasm module once, with env.wasm.numThreads as it is at the
 * first session; later sessions cannot change it. So the first session's `threads` wins and a
 * later, different request is an error rather than a silent mismatch. Default: 1 thread.
 */
function ortWebThreadsFor(threads: number | undefined): number {
  const wanted = threads ?? ortWebThreads ?? 1;
  if (ortWebThreads !== undefined && wanted !== ortWebThreads) {
    throw new BackendInputError(
      `ort-web: the wasm runtime of this process was initialised with ${ortWebThreads} thread(s); ` +
        `it cannot be re-initialised with ${wanted} (use a separate process for another thread count)`,
    );
  }
  return wanted;
}

export const ortWebBackend: Backend = {
  name: 'ort-web',
  description: 'onnxruntime-web: ONNX Runtime compiled to WebAssembly (SIMD, optional threads); training via a generated ONNX training-step graph',
  canTrain: true,
  async available() {
    if (typeof WebAssembly === 'undefined') return 'WebAssembly is not available';
    try {
      await loadOrtWeb();
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  },
  async info(options: SessionOptions = {}): Promise<BackendInfo> {
    const threads = checkThreads('ort-web', options.threads) ?? ortWebThreads ?? 1;
    const ort = await loadOrtWeb();
    return {
      runtime: `onnxruntime-web ${ort.env.versions.web} (wasm EP, SIMD, ${threads} thread${threads === 1 ? '' : 's'})`,
      versions: { 'onnxruntime-web': ort.env.versions.web, 'onnxruntime-common': ort.env.versions.common },
      threads,
    };
  },
  async createSession(spec: ModelSpec, weights: Weights, options: SessionOptions = {}) {
    const threads = ortWebThreadsFor(checkThreads('ort-web', options.threads));
    const ort = await loadOrtWeb();
    if (ortWebThreads === undefined) {
      ort.env.wasm.numThreads = threads;
      ortWebThreads = threads;
    }
    return OrtSession.create(
      { backendName: 'ort-web', ort, sessionOptions: { executionProviders: ['wasm'], graphOptimizationLevel: 'all' }, preallocatedOutputs: false },
      spec,
      weights,
    );
  },
};

