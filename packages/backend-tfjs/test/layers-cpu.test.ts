// tfjs-layers-cpu: tf.sequential + tf.layers on the stock cpu kernels.
import { describe, expect, it } from 'vitest';
import { getPreset, initWeights } from '@lenet/model';
import { tfjsLayersCpuBackend } from '../src/index.js';
import { layersSuite } from './layers-suite.js';

// 'learns' (12 full-batch steps) takes ~30 s on the stock cpu kernels; the wasm file runs it.
layersSuite(tfjsLayersCpuBackend, { skip: ['learns'] });

describe('tfjs-layers-cpu info', () => {
  it('names the union package and tf.layers', async () => {
    const info = await tfjsLayersCpuBackend.info();
    expect(info.runtime).toBe('tfjs 4.22.0 tf.layers cpu');
    expect(info.versions['@tensorflow/tfjs-layers']).toBe('4.22.0');
    const spec = getPreset('lenet5');
    const session = await tfjsLayersCpuBackend.createSession(spec, initWeights(spec, 0));
    await session.dispose();
    await expect(session.predict(new Float32Array(784), 1)).rejects.toThrow(/after dispose/);
  });
});
