/**
 * What GPU backends (WebGL, WebGPU) report about their device: the adapter / renderer string
 * and whether it is a software fallback. Shared by @lenet/backend-tfjs and
 * @lenet/backend-onnxruntime (backends do not import each other). Browser-only at run time;
 * in Node the WebGPU query reports that there is no navigator.gpu.
 */

/** Renderer/adapter names of CPU emulations of a GPU (Chromium's SwiftShader, Mesa's llvmpipe/lavapipe/softpipe, Windows' WARP / Basic Render Driver). */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|lavapipe|softpipe|software|microsoft basic render|\bwarp\b/i;

/** True when a WebGL renderer or WebGPU adapter string names a software rasterizer. */
export function isSoftwareRenderer(name: string): boolean {
  return SOFTWARE_RENDERER.test(name);
}

export interface GpuAdapterInfo {
  /** e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))". */
  adapter: string;
  softwareFallback: boolean;
}

/** The parts of a WebGL context read here (no dependency on DOM typings of a given version). */
interface WebGlLike {
  getExtension(name: string): unknown;
  getParameter(p: number): unknown;
  RENDERER: number;
  VENDOR: number;
}

/**
 * The renderer of a WebGL context: the unmasked one from WEBGL_debug_renderer_info when the
 * browser exposes it (Chromium does), else gl.RENDERER (which browsers may mask).
 */
export function webglAdapterInfo(gl: WebGlLike): GpuAdapterInfo {
  const ext = gl.getExtension('WEBGL_debug_renderer_info') as { UNMASKED_RENDERER_WEBGL: number; UNMASKED_VENDOR_WEBGL: number } | null;
  const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? 'unknown renderer');
  const vendor = String(gl.getParameter(ext ? ext.UNMASKED_VENDOR_WEBGL : gl.VENDOR) ?? '');
  const adapter = vendor && !renderer.includes(vendor) ? `${renderer} (vendor ${vendor})` : renderer;
  return { adapter, softwareFallback: isSoftwareRenderer(adapter) };
}

/** A WebGPU adapter as far as it is read here (GPUAdapter; `info` since Chrome 127). */
export interface WebGpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  /** Deprecated in favour of info.isFallbackAdapter, still the only place in older browsers. */
  isFallbackAdapter?: boolean;
}

/** "vendor architecture device description" of a WebGPU adapter, and its fallback flag. */
export function webgpuAdapterInfo(adapter: WebGpuAdapterLike): GpuAdapterInfo {
  const i = adapter.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter((s): s is string => typeof s === 'string' && s.length > 0);
  const name = parts.length ? [...new Set(parts)].join(' ') : 'unnamed adapter';
  const fallback = i.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return { adapter: `WebGPU: ${name}${fallback ? ' (fallback adapter)' : ''}`, softwareFallback: fallback || isSoftwareRenderer(name) };
}

interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<WebGpuAdapterLike | null>;
}

/**
 * Requests a WebGPU adapter the way TF.js and onnxruntime-web do, and describes it; resolves
 * to a reason string when there is none (no navigator.gpu, no adapter, request failed).
 */
export async function requestWebgpuAdapter(powerPreference?: 'low-power' | 'high-performance'): Promise<GpuAdapterInfo | string> {
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (!gpu) return 'this environment has no WebGPU (navigator.gpu is missing; in Chromium without a GPU start it with --enable-unsafe-webgpu)';
  try {
    const adapter = await gpu.requestAdapter(powerPreference ? { powerPreference } : undefined);
    return adapter ? webgpuAdapterInfo(adapter) : 'WebGPU has no adapter here (no GPU, or it is blocklisted; Chromium offers its SwiftShader fallback adapter with --enable-unsafe-webgpu)';
  } catch (e) {
    return `WebGPU adapter request failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}
