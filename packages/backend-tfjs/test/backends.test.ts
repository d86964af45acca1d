// The backend list and the optional tfjs-node backend (not installable on our machines).
import { describe, expect, it } from 'vitest';
import { getPreset, initWeights } from '@lenet/model';
import { backends, tfjsNodeBackend } from '../src/index.js';

describe('backends', () => {
  it('lists tfjs-cpu, tfjs-wasm, tfjs-node and the tf.layers rows, all able to train', () => {
    expect(backends.map((b) => b.name)).toEqual(['tfjs-cpu', 'tfjs-wasm', 'tfjs-node', 'tfjs-layers-cpu', 'tfjs-layers-wasm']);
    expect(backends.every((b) => b.canTrain)).toBe(true);
  });

  it('tfjs-node reports why it is unavailable instead of throwing when the package is missing', async () => {
    let installed = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      installed = false;
    }
    const available = await tfjsNodeBackend.available();
    if (installed) {
      expect(available).toBe(true);
    } else {
      expect(available).toMatch(/@tensorflow\/tfjs-node is not installed/);
      const spec = getPreset('lenet5');
      await expect(tfjsNodeBackend.createSession(spec, initWeights(spec, 0))).rejects.toThrow(
        /tfjs-node is not available: @tensorflow\/tfjs-node is not installed/,
      );
    }
  });
});
