// ort-web-webgpu outside a browser: a clear "no WebGPU" reason, not a crash. (It runs in
// Chromium: apps/web/test/gpu.test.ts.)
import { describe, expect, it } from 'vitest';
import { canTrain } from '@lenet/core';
import { backends, ortWebGpuBackend } from '../src/index.js';

describe('ort-web-webgpu in Node', () => {
  it('is exported beside, not in, the Node backends list, and reports why it cannot run here', async () => {
    expect(backends.map((b) => b.name)).not.toContain('ort-web-webgpu');
    expect(canTrain(ortWebGpuBackend)).toBe(true);
    expect(await ortWebGpuBackend.available()).toMatch(/no WebGPU \(navigator\.gpu is missing/);
  });
});
