import { describe, expect, it } from 'vitest';
import { isSoftwareRenderer, requestWebgpuAdapter, webglAdapterInfo, webgpuAdapterInfo } from '../src/index.js';

describe('GPU adapter info', () => {
  it('classifies software rasterizers by name', () => {
    // Strings as Chromium and Mesa report them.
    expect(isSoftwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)')).toBe(true);
    expect(isSoftwareRenderer('llvmpipe (LLVM 15.0.6, 256 bits)')).toBe(true);
    expect(isSoftwareRenderer('Mesa Intel(R) UHD Graphics 620 (KBL GT2)')).toBe(false);
    expect(isSoftwareRenderer('ANGLE (NVIDIA, NVIDIA GeForce RTX 3080 Direct3D11 vs_5_0 ps_5_0, D3D11)')).toBe(false);
  });

  it('reads the unmasked WebGL renderer when the extension is there, else gl.RENDERER', () => {
    const params: Record<number, string> = { 1: 'WebKit WebGL', 2: 'WebKit', 37446: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))', 37445: 'Google Inc. (Google)' };
    const gl = (ext: boolean) => ({
      RENDERER: 1,
      VENDOR: 2,
      getExtension: (n: string) => (ext && n === 'WEBGL_debug_renderer_info' ? { UNMASKED_RENDERER_WEBGL: 37446, UNMASKED_VENDOR_WEBGL: 37445 } : null),
      getParameter: (p: number) => params[p],
    });
    expect(webglAdapterInfo(gl(true))).toEqual({ adapter: 'ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero))) (vendor Google Inc. (Google))', softwareFallback: true });
    expect(webglAdapterInfo(gl(false))).toEqual({ adapter: 'WebKit WebGL', softwareFallback: false });
  });

  it('names a WebGPU adapter and flags fallback adapters (info.isFallbackAdapter or the older property)', () => {
    expect(webgpuAdapterInfo({ info: { vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true } })).toEqual({
      adapter: 'WebGPU: google swiftshader (fallback adapter)',
      softwareFallback: true,
    });
    expect(webgpuAdapterInfo({ info: { vendor: 'nvidia', architecture: 'ampere' }, isFallbackAdapter: false })).toEqual({ adapter: 'WebGPU: nvidia ampere', softwareFallback: false });
    expect(webgpuAdapterInfo({ isFallbackAdapter: true }).softwareFallback).toBe(true);
  });

  it('in Node there is no WebGPU: a reason, not a throw', async () => {
    expect(await requestWebgpuAdapter()).toMatch(/navigator\.gpu is missing/);
  });
});
