// The page's weight decoding: both formats the CLI writes, and a clear error for anything else.
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, getPreset, initWeights } from '@lenet/model';
import { exportOnnx } from '@lenet/backend-onnxruntime';
import { decodeModel } from '../src/data.js';
import { ReferenceModel } from '../src/forward.js';
import { summarizeLatency } from '../src/measure.js';

describe('decodeModel', () => {
  const spec = getPreset('lenet5-modern');
  const weights = initWeights(spec, 3);

  it('reads safetensors with the spec in its metadata (as lenet-bench init/train write it)', () => {
    const m = decodeModel(encodeSafetensors(weights, { spec: JSON.stringify(spec) }), 'a.safetensors');
    expect(m.spec).toEqual(spec);
    expect(m.info).toMatchObject({ format: 'safetensors', model: 'lenet5-modern', params: 61706 });
    expect(m.weights.get('conv1.weight')!.data).toEqual(weights.get('conv1.weight')!.data);
  });

  it('reads an ONNX export (spec from the file)', () => {
    const m = decodeModel(exportOnnx(spec, weights), 'a.onnx');
    expect(m.info.format).toBe('onnx');
    expect(m.spec.layers).toEqual(spec.layers);
    expect(m.weights.get('fc3.bias')!.data).toEqual(weights.get('fc3.bias')!.data);
  });

  it('safetensors without a spec default to lenet5 and must fit it', () => {
    expect(() => decodeModel(encodeSafetensors(weights), 'modern.safetensors')).not.toThrow(); // same shapes as lenet5
    const lenet5 = getPreset('lenet5');
    expect(decodeModel(encodeSafetensors(initWeights(lenet5, 0)), 'x.safetensors').spec.name).toBe(lenet5.name);
  });

  it('names the file when the bytes are neither format', () => {
    expect(() => decodeModel(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]), 'junk.bin')).toThrow(/^junk\.bin: neither a safetensors file .* nor an ONNX model/);
  });
});

describe('ReferenceModel', () => {
  const spec = getPreset('lenet5');
  const model = new ReferenceModel(spec, initWeights(spec, 0));
  const x = Float32Array.from({ length: 784 }, (_, i) => (i % 29) / 28);

  it('gives the conv1/conv2 feature maps after their activation, and probabilities summing to 1', () => {
    const maps = model.convMaps(x, 2);
    expect(maps.map((m) => [m.label, m.channels, m.height, m.width, m.data.length])).toEqual([
      ['conv1 (6@28×28) + sigmoid', 6, 28, 28, 6 * 28 * 28],
      ['conv2 (16@10×10) + sigmoid', 16, 10, 10, 1600],
    ]);
    for (const v of maps[0]!.data) expect(v > 0 && v < 1).toBe(true); // sigmoid outputs
    const p = model.probabilities(x);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });
});

describe('summarizeLatency', () => {
  it('computes the report fields from the samples', () => {
    const s = summarizeLatency([4, 1, 3, 2, 100], 256);
    expect(s).toMatchObject({ batchSize: 256, p50Ms: 3, p99Ms: 100, minMs: 1, maxMs: 100, madMs: 1, samplesCount: 5, meanMs: 22 });
    expect(s.imagesPerSecond).toBeCloseTo(256 / 0.003, 6);
    expect(s.samplesMs).toEqual([1, 2, 3, 4, 100]);
    expect(summarizeLatency(Array.from({ length: 5000 }, (_, i) => i), 1).samplesMs).toHaveLength(2000);
  });
});
