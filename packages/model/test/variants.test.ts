import { describe, expect, it } from 'vitest';
import { SpecError, getPreset, inferShapes, lenetVariant, paramInfos, summarize } from '../src/index.js';

describe('lenetVariant', () => {
  it('defaults to lenet5 layers; the presets are variants with defaults', () => {
    expect(lenetVariant().layers).toEqual(getPreset('lenet5').layers);
    expect(lenetVariant({}).name).toBe('lenet5-variant');
    expect(lenetVariant({ name: 'lenet5' })).toEqual(getPreset('lenet5'));
    expect(lenetVariant({ name: 'lenet5-modern', activation: 'relu', pooling: 'max' })).toEqual(getPreset('lenet5-modern'));
  });

  it('builds wider/narrower conv blocks and dense layers (d2l 7.6 exercise 2)', () => {
    const spec = lenetVariant({ name: 'wide', convChannels: [16, 32], denseUnits: [256, 128], activation: 'relu', pooling: 'max' });
    const s = summarize(spec);
    expect(paramInfos(spec).map((p) => `${p.name}[${p.shape}]`)).toEqual([
      'conv1.weight[16,1,5,5]', 'conv1.bias[16]', 'conv2.weight[32,16,5,5]', 'conv2.bias[32]',
      'fc1.weight[256,800]', 'fc1.bias[256]', 'fc2.weight[128,256]', 'fc2.bias[128]', 'fc3.weight[10,128]', 'fc3.bias[10]',
    ]);
    expect(s.totalParams).toBe(16 * 25 + 16 + 32 * 16 * 25 + 32 + 800 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
    expect(s.outputShape).toEqual([10]);
  });

  it('changes kernel size with "same" padding on the first block by default', () => {
    const spec = lenetVariant({ kernelSize: 3 });
    const layers = inferShapes(spec);
    expect(spec.layers[0]).toMatchObject({ kernelSize: 3, padding: 1 });
    expect(layers.map((l) => l.outputShape).filter((s) => s.length === 3)).toEqual([
      [6, 28, 28], [6, 28, 28], [6, 14, 14], [16, 12, 12], [16, 12, 12], [16, 6, 6],
    ]);
    expect(paramInfos(spec).find((p) => p.name === 'fc1.weight')!.shape).toEqual([120, 576]);
  });

  it('takes per-block kernel sizes and paddings, and more or fewer blocks and dense layers', () => {
    const three = lenetVariant({ convChannels: [8, 16, 32], kernelSize: [5, 3, 3], padding: [2, 1, 1], denseUnits: [64], activation: 'tanh' });
    const convs = inferShapes(three).filter((l) => l.type === 'conv2d');
    expect(convs.map((l) => l.outputShape)).toEqual([[8, 28, 28], [16, 14, 14], [32, 7, 7]]);
    expect(paramInfos(three).map((p) => p.name)).toEqual([
      'conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'conv3.weight', 'conv3.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias',
    ]);
    expect(three.layers.filter((l) => l.type === 'activation').every((l) => l.fn === 'tanh')).toBe(true);

    const mlpHead = lenetVariant({ convChannels: [4], denseUnits: [], numClasses: 3, poolSize: 4 });
    expect(summarize(mlpHead).layers.map((l) => l.outputShape)).toEqual([[4, 28, 28], [4, 28, 28], [4, 7, 7], [196], [3]]);
  });

  it('supports other input shapes (e.g. 3-channel 32x32)', () => {
    const spec = lenetVariant({ inputShape: [3, 32, 32], padding: 0 });
    expect(inferShapes(spec).find((l) => l.type === 'flatten')!.outputShape).toEqual([400]);
    expect(paramInfos(spec)[0].shape).toEqual([6, 3, 5, 5]);
  });

  it('rejects variants whose shapes no longer fit, naming the layer', () => {
    // Three 5x5 blocks without padding: 28 -> 24 -> 12 -> 8 -> 4 -> conv3 5x5 does not fit.
    expect(() => lenetVariant({ convChannels: [6, 16, 32], padding: 0 })).toThrow(
      /layer 6 \(conv2d "conv3"\): kernelSize 5 is larger than the padded input 4x4/,
    );
    expect(() => lenetVariant({ poolSize: 30 })).toThrow(/layer 2 \(pool2d\): pooling window 30 is larger than the input 28x28/);
    expect(() => lenetVariant({ convChannels: [6, 0] })).toThrow(/layer 3 \(conv2d "conv2"\): "outChannels" must be a positive integer, got 0/);
  });

  it('rejects inconsistent or unknown options', () => {
    expect(() => lenetVariant({ convChannels: [6, 16], kernelSize: [5, 5, 5] })).toThrow(
      /"kernelSize" has 3 entries but convChannels has 2/,
    );
    expect(() => lenetVariant({ convChannels: [6], padding: [2, 0] })).toThrow(SpecError);
    expect(() => lenetVariant({ channels: [6] } as never)).toThrow(/unknown option "channels"/);
    expect(() => lenetVariant({ activation: 'gelu' } as never)).toThrow(/"fn" must be one of sigmoid, relu, tanh/);
  });
});
