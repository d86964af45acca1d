// tfjs-layers-wasm: tf.sequential + tf.layers on stock tfjs-backend-wasm plus this package's
// Conv2DBackpropFilter (registerWasmConv2DBackpropFilter), the kernel wasm lacks.
import { describe, expect, it } from 'vitest';
import { tfjsLayersWasmBackend } from '../src/index.js';
import { layersSuite } from './layers-suite.js';

// Left out: stock wasm's MaxPoolGrad starts its running max at the smallest *positive* float
// (see src/kernels/pool_grads.ts), so tanh -> overlapping max pool (the variant) gets wrong
// conv1 gradients in tf.layers. The presets are unaffected: windows after a ReLU with no
// positive value have a zero ReLU derivative anyway.
layersSuite(tfjsLayersWasmBackend, {
  skip: ['sgd-step: variant (stride 2, padding, tanh, overlapping max pool), batch 5, loss and weights after one step match the reference'],
});

describe('tfjs-layers-wasm info', () => {
  it('says that the filter-gradient kernel comes from this package', async () => {
    const info = await tfjsLayersWasmBackend.info();
    expect(info.runtime).toBe('tfjs 4.22.0 tf.layers wasm (simd, 1 thread; Conv2DBackpropFilter from @lenet/backend-tfjs)');
    expect(info.versions['@tensorflow/tfjs-backend-wasm']).toBe('4.22.0');
  });
});
