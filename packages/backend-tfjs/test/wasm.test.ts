// tfjs-wasm: core conformance (training uses the registered Conv2DBackpropFilter), no tensor
// leaks, multi-channel layouts.
import { describe, expect, it } from 'vitest';
import { tfjsWasmBackend } from '../src/index.js';
import { backendSuite } from './backend-suite.js';

backendSuite(tfjsWasmBackend, { leakBatch: 16 });

describe('tfjs-wasm info', () => {
  it('reports the SIMD build and its thread count', async () => {
    const info = await tfjsWasmBackend.info();
    expect(info.runtime).toMatch(/^tfjs 4\.22\.0 wasm \(simd, \d+ threads?\)$/);
    expect(info.versions['@tensorflow/tfjs-backend-wasm']).toBe('4.22.0');
    expect(info.threads).toBeGreaterThanOrEqual(1);
  });
});
