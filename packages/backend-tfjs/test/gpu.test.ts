// The GPU entry (@lenet/backend-tfjs/gpu) in Node: importable, and its backends say clearly that
// they need a browser instead of failing later. (They run in Chromium: apps/web/test/gpu.test.ts.)
import { describe, expect, it } from 'vitest';
import { canTrain } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { gpuBackends, tfjsWebglBackend, tfjsWebgpuBackend } from '../src/gpu.js';

describe('@lenet/backend-tfjs/gpu in Node', () => {
  it('lists tfjs-webgl and tfjs-webgpu, both able to train', () => {
    expect(gpuBackends.map((b) => [b.name, canTrain(b)])).toEqual([['tfjs-webgl', true], ['tfjs-webgpu', true]]);
  });

  it('reports them unavailable with the reason, and createSession rejects with it', async () => {
    expect(await tfjsWebglBackend.available()).toMatch(/tfjs-webgl is not available: tfjs-webgl needs a browser \(WebGL\)/);
    expect(await tfjsWebgpuBackend.available()).toMatch(/tfjs-webgpu needs a browser with WebGPU/);
    const spec = getPreset('lenet5');
    await expect(tfjsWebglBackend.createSession(spec, initWeights(spec, 0))).rejects.toThrow(/needs a browser/);
  });
});
