/**
 * What the benchmark form ticks: a light probe per backend, before anything runs. A backend
 * that cannot run in this browser (ort-web's WebGL EP, which the bundle lacks; WebGPU without
 * an adapter; WebGL2 without a context) is unticked and disabled with the reason; a GPU backend
 * on a software fallback adapter (SwiftShader) runs, but minutes long and with timings that say
 * nothing about a GPU, so it is unticked (still selectable) with that reason — the same default
 * as `lenet-bench browser`. The probes never create a session (no TF.js backend is activated).
 */
import { requestWebgpuAdapter, webglAdapterInfo, type GpuAdapterInfo } from '@lenet/core';
import { TRAIN_TARGETS } from './backends.js';

export type Availability =
  | { state: 'ready' }
  /** Runs, but should not be ticked by default (reason says why). */
  | { state: 'optional'; reason: string }
  /** Cannot run here. */
  | { state: 'unavailable'; reason: string };

// By id suffix, so backends registered later (e.g. a tfjs-layers or jax-js GPU row) are probed too.
const needsWebgpu = (id: string) => id.endsWith('-webgpu');
const needsWebgl = (id: string) => id.endsWith('-webgl') && id !== 'ort-web-webgl';

function webglInfo(): GpuAdapterInfo | string {
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return 'this browser has no WebGL2 context (no GPU, or GPU disabled; Chromium without a GPU needs --enable-unsafe-swiftshader)';
    const info = webglAdapterInfo(gl);
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return info;
  } catch (e) {
    return `WebGL2 probe failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function fromAdapter(info: GpuAdapterInfo | string): Availability {
  if (typeof info === 'string') return { state: 'unavailable', reason: info };
  if (info.softwareFallback) return { state: 'optional', reason: `software fallback adapter (${info.adapter}): runs for minutes, timings not representative of a GPU` };
  return { state: 'ready' };
}

let webgpu: Promise<GpuAdapterInfo | string> | null = null;

/** Probes one backend of the page's table (by id). Never throws. */
export async function probeBackend(id: string): Promise<Availability> {
  try {
    if (needsWebgpu(id)) return fromAdapter(await (webgpu ??= requestWebgpuAdapter()));
    if (needsWebgl(id)) return fromAdapter(webglInfo());
    const target = TRAIN_TARGETS.get(id);
    // Only backends with an import-free available() are asked (ort-web-webgl answers at once);
    // the others load their runtime in available(), which the run itself reports on.
    if (id === 'ort-web-webgl' && target?.where === 'main thread') {
      const a = await target.backend.available();
      return a === true ? { state: 'ready' } : { state: 'unavailable', reason: a };
    }
    if (id.endsWith('-wasm') && typeof WebAssembly !== 'object') return { state: 'unavailable', reason: 'this browser has no WebAssembly' };
    return { state: 'ready' };
  } catch (e) {
    return { state: 'unavailable', reason: e instanceof Error ? e.message : String(e) };
  }
}
