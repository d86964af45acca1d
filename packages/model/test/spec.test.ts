import { describe, expect, it } from 'vitest';
import {
  PRESET_NAMES,
  SpecError,
  formatSummary,
  frozenSpec,
  getPreset,
  inferShapes,
  inputSize,
  numClasses,
  paramInfos,
  summarize,
  validateSpec,
} from '../src/index.js';
import type { ModelSpec } from '../src/index.js';

const LENET5_SHAPES = [
  [6, 28, 28], [6, 28, 28], [6, 14, 14],
  [16, 10, 10], [16, 10, 10], [16, 5, 5],
  [400], [120], [120], [84], [84], [10],
];

describe('lenet5 preset (d2l 7.6)', () => {
  const spec = getPreset('lenet5');

  it('has the d2l layer sequence', () => {
    expect(spec.inputShape).toEqual([1, 28, 28]);
    expect(spec.layers.map((l) => (l.type === 'activation' ? l.fn : l.type === 'pool2d' ? `${l.mode}pool` : l.type))).toEqual([
      'conv2d', 'sigmoid', 'avgpool', 'conv2d', 'sigmoid', 'avgpool', 'flatten', 'dense', 'sigmoid', 'dense', 'sigmoid', 'dense',
    ]);
    expect(spec.layers[0]).toMatchObject({ outChannels: 6, kernelSize: 5, padding: 2 });
    expect(spec.layers[3]).toMatchObject({ outChannels: 16, kernelSize: 5 });
  });

  it('infers the per-layer output shapes [6,28,28] … [10]', () => {
    const layers = inferShapes(spec);
    expect(layers.map((l) => l.outputShape)).toEqual(LENET5_SHAPES);
    expect(layers[0].inputShape).toEqual([1, 28, 28]);
    expect(layers.map((l) => l.index)).toEqual(layers.map((_, i) => i));
  });

  it('has 61,706 parameters and 416,520 multiply-adds', () => {
    const s = summarize(spec);
    expect(s.totalParams).toBe(61_706);
    expect(s.totalMacs).toBe(416_520);
    expect(s.inputShape).toEqual([1, 28, 28]);
    expect(s.outputShape).toEqual([10]);
    // Per layer, with MACs = outC*outH*outW*inC*k*k (conv) and in*out (dense); the rest count 0.
    expect(s.layers.map((l) => l.params)).toEqual([156, 0, 0, 2416, 0, 0, 0, 48_120, 0, 10_164, 0, 850]);
    expect(s.layers.map((l) => l.macs)).toEqual([6 * 28 * 28 * 1 * 25, 0, 0, 16 * 10 * 10 * 6 * 25, 0, 0, 0, 400 * 120, 0, 120 * 84, 0, 84 * 10]);
  });

  it('labels layers like PyTorch modules', () => {
    const labels = inferShapes(spec).map((l) => l.label);
    expect(labels[0]).toBe('conv1 Conv2d(1->6, k5, s1, p2)');
    expect(labels[1]).toBe('Sigmoid');
    expect(labels[2]).toBe('AvgPool2d(k2, s2)');
    expect(labels[3]).toBe('conv2 Conv2d(6->16, k5, s1, p0)');
    expect(labels[6]).toBe('Flatten');
    expect(labels[7]).toBe('fc1 Dense(400->120)');
    expect(labels[11]).toBe('fc3 Dense(84->10)');
  });

  it('declares the canonical parameters', () => {
    expect(paramInfos(spec).map((p) => [p.name, p.shape, p.kind, p.layerIndex])).toEqual([
      ['conv1.weight', [6, 1, 5, 5], 'weight', 0],
      ['conv1.bias', [6], 'bias', 0],
      ['conv2.weight', [16, 6, 5, 5], 'weight', 3],
      ['conv2.bias', [16], 'bias', 3],
      ['fc1.weight', [120, 400], 'weight', 7],
      ['fc1.bias', [120], 'bias', 7],
      ['fc2.weight', [84, 120], 'weight', 9],
      ['fc2.bias', [84], 'bias', 9],
      ['fc3.weight', [10, 84], 'weight', 11],
      ['fc3.bias', [10], 'bias', 11],
    ]);
    expect(numClasses(spec)).toBe(10);
    expect(inputSize(spec)).toBe(784);
  });

  it('formats an aligned summary table with totals', () => {
    const text = formatSummary(summarize(spec));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Model: lenet5');
    expect(text).toContain('Total params: 61,706');
    expect(text).toContain('Total multiply-adds per image: 416,520');
    const conv2 = lines.find((l) => l.includes('conv2 Conv2d'))!;
    expect(conv2).toMatch(/\[16,10,10\]\s+2,416\s+240,000$/);
    // Columns align: every layer row has its params column ending at the same position.
    const rows = lines.filter((l) => /^\d+\s/.test(l));
    expect(rows).toHaveLength(12);
    const header = lines[1];
    const paramsEnd = header.indexOf('Params') + 'Params'.length;
    for (const row of rows) expect(row.slice(0, paramsEnd)).toMatch(/\d$/);
  });
});

describe('lenet5-modern preset', () => {
  const spec = getPreset('lenet5-modern');
  it('swaps in ReLU and max-pooling and keeps the shapes and counts', () => {
    const acts = spec.layers.filter((l) => l.type === 'activation');
    const pools = spec.layers.filter((l) => l.type === 'pool2d');
    expect(acts.map((l) => l.fn)).toEqual(['relu', 'relu', 'relu', 'relu']);
    expect(pools.map((l) => l.mode)).toEqual(['max', 'max']);
    const s = summarize(spec);
    expect(s.layers.map((l) => l.outputShape)).toEqual(LENET5_SHAPES);
    expect([s.totalParams, s.totalMacs]).toEqual([61_706, 416_520]);
    expect(inferShapes(spec)[2].label).toBe('MaxPool2d(k2, s2)');
    expect(inferShapes(spec)[1].label).toBe('ReLU');
  });
});

describe('presets', () => {
  it('lists exactly the presets getPreset knows', () => {
    expect([...PRESET_NAMES]).toEqual(['lenet5', 'lenet5-modern']);
    for (const name of PRESET_NAMES) expect(getPreset(name).name).toBe(name);
  });
  it('are JSON-serialisable and survive a JSON round trip through validateSpec', () => {
    for (const name of PRESET_NAMES) {
      const spec = getPreset(name);
      const back = validateSpec(JSON.parse(JSON.stringify(spec)));
      expect(back).toEqual(spec);
    }
  });
  it('returns a fresh copy each time', () => {
    const a = getPreset('lenet5');
    a.layers.length = 0;
    expect(getPreset('lenet5').layers).toHaveLength(12);
  });
  it('rejects unknown names, listing the valid ones', () => {
    expect(() => getPreset('lenet6')).toThrow(SpecError);
    expect(() => getPreset('lenet6')).toThrow(/"lenet6".*lenet5, lenet5-modern/);
  });
});

describe('validateSpec', () => {
  it('returns a deep copy that does not alias the input', () => {
    const spec = getPreset('lenet5');
    const copy = validateSpec(spec);
    expect(copy).toEqual(spec);
    expect(copy).not.toBe(spec);
    expect(copy.layers[0]).not.toBe(spec.layers[0]);
    expect(copy.inputShape).not.toBe(spec.inputShape);
  });

  it('fills in default names conv<n>/fc<n> when layers have none', () => {
    const spec: ModelSpec = {
      name: 'anon',
      inputShape: [3, 8, 8],
      layers: [
        { type: 'conv2d', outChannels: 4, kernelSize: 3 },
        { type: 'conv2d', outChannels: 2, kernelSize: 3, stride: 2, padding: 1 },
        { type: 'flatten' },
        { type: 'dense', units: 5 },
        { type: 'dense', units: 3 },
      ],
    };
    expect(validateSpec(spec)).toEqual(spec); // nothing is added to the copy
    expect(paramInfos(spec).map((p) => `${p.name}[${p.shape}]`)).toEqual([
      'conv1.weight[4,3,3,3]', 'conv1.bias[4]', 'conv2.weight[2,4,3,3]', 'conv2.bias[2]',
      'fc1.weight[5,18]', 'fc1.bias[5]', 'fc2.weight[3,5]', 'fc2.bias[3]',
    ]);
    // conv2: (6 + 2*1 - 3)/2 + 1 = 3 (floor) -> [2,3,3]
    expect(inferShapes(spec)[1].outputShape).toEqual([2, 3, 3]);
    expect(numClasses(spec)).toBe(3);
    expect(inputSize(spec)).toBe(192);
  });

  it('accepts custom dotted parameter names', () => {
    const spec: ModelSpec = {
      name: 'named',
      inputShape: [1, 4, 4],
      layers: [{ type: 'flatten' }, { type: 'dense', name: 'head.out', units: 2 }],
    };
    expect(paramInfos(spec).map((p) => p.name)).toEqual(['head.out.weight', 'head.out.bias']);
  });

  const base = (): ModelSpec => getPreset('lenet5');
  const withLayers = (edit: (layers: unknown[]) => void): unknown => {
    const spec = base() as unknown as { layers: unknown[] };
    edit(spec.layers);
    return spec;
  };

  // [case, spec, expected message pattern, expected layerIndex]
  const invalid: [string, unknown, RegExp, number | undefined][] = [
    ['not an object', 42, /expected a JSON object/, undefined],
    ['an array', [], /expected a JSON object/, undefined],
    ['missing name', { inputShape: [1, 28, 28], layers: base().layers }, /"name" must be a non-empty string/, undefined],
    ['inputShape with 2 dims', { ...base(), inputShape: [28, 28] }, /"inputShape" must be \[channels, height, width\].*\[28,28\]/, undefined],
    ['inputShape with zero', { ...base(), inputShape: [1, 0, 28] }, /"inputShape"/, undefined],
    ['inputShape with a fraction', { ...base(), inputShape: [1, 28.5, 28] }, /"inputShape"/, undefined],
    ['unknown top-level field', { ...base(), layer: [] }, /unknown top-level field "layer"/, undefined],
    ['layers not an array', { ...base(), layers: {} }, /"layers" must be an array/, undefined],
    ['no layers', { ...base(), layers: [] }, /"layers" is empty/, undefined],
    ['unknown layer type', withLayers((l) => (l[4] = { type: 'softmax' })), /layer 4: unknown layer type "softmax" \(expected one of conv2d, activation, pool2d, flatten, dense\)/, 4],
    ['layer not an object', withLayers((l) => (l[1] = 'sigmoid')), /layer 1: expected an object/, 1],
    ['zero channels', withLayers((l) => ((l[3] as { outChannels: number }).outChannels = 0)), /layer 3 \(conv2d "conv2"\): "outChannels" must be a positive integer, got 0/, 3],
    ['fractional kernel', withLayers((l) => ((l[0] as { kernelSize: number }).kernelSize = 2.5)), /layer 0 \(conv2d "conv1"\): "kernelSize" must be a positive integer, got 2.5/, 0],
    ['stride 0', withLayers((l) => ((l[2] as { stride: number }).stride = 0)), /layer 2 \(pool2d\): "stride" must be a positive integer, got 0/, 2],
    ['negative padding', withLayers((l) => ((l[0] as { padding: number }).padding = -1)), /layer 0 \(conv2d "conv1"\): "padding" must be a non-negative integer, got -1/, 0],
    ['string units', withLayers((l) => ((l[9] as { units: unknown }).units = '84')), /layer 9 \(dense "fc2"\): "units" must be a positive integer, got "84"/, 9],
    ['unknown activation', withLayers((l) => (l[1] = { type: 'activation', fn: 'gelu' })), /layer 1 \(activation\): "fn" must be one of sigmoid, relu, tanh, got "gelu"/, 1],
    ['unknown pool mode', withLayers((l) => ((l[5] as { mode: string }).mode = 'min')), /layer 5 \(pool2d\): "mode" must be one of avg, max/, 5],
    ['misspelled field', withLayers((l) => ((l[0] as Record<string, unknown>).strides = 2)), /layer 0 \(conv2d "conv1"\): unknown field "strides"/, 0],
    ['kernel larger than padded input', withLayers((l) => ((l[3] as { kernelSize: number }).kernelSize = 15)), /layer 3 \(conv2d "conv2"\): kernelSize 15 is larger than the padded input 14x14 \(input \[6,14,14\], padding 0\)/, 3],
    ['pool window too big', withLayers((l) => ((l[5] as { kernelSize: number }).kernelSize = 11)), /layer 5 \(pool2d\): pooling window 11 is larger than the input 10x10/, 5],
    ['dense before flatten', withLayers((l) => l.splice(6, 1)), /layer 6 \(dense "fc1"\): dense requires a flat \[features\] input but receives \[16,5,5\]; add a flatten layer/, 6],
    ['conv after flatten', withLayers((l) => l.splice(7, 0, { type: 'conv2d', outChannels: 2, kernelSize: 1 })), /layer 7 \(conv2d "conv3"\): conv2d requires a \[C,H,W\] input but receives \[400\]/, 7],
    ['pool after flatten', withLayers((l) => l.splice(7, 0, { type: 'pool2d', mode: 'max', kernelSize: 2 })), /layer 7 \(pool2d\): pool2d requires a \[C,H,W\] input/, 7],
    ['double flatten', withLayers((l) => l.splice(7, 0, { type: 'flatten' })), /layer 7 \(flatten\): flatten requires a \[C,H,W\] input/, 7],
    ['ends with an activation', withLayers((l) => l.push({ type: 'activation', fn: 'relu' })), /layer 12 \(activation\): the model must end with a dense layer/, 12],
    ['duplicate parameter names', withLayers((l) => ((l[9] as { name: string }).name = 'fc1')), /layer 9 \(dense "fc1"\): parameter name "fc1" is already used by layer 7/, 9],
    ['explicit name clashing with a default', withLayers((l) => {
      delete (l[3] as { name?: string }).name;
      (l[0] as { name: string }).name = 'conv2';
    }), /layer 3 \(conv2d "conv2"\): parameter name "conv2" is already used by layer 0/, 3],
    ['bad parameter name', withLayers((l) => ((l[0] as { name: string }).name = 'conv 1')), /layer 0 \(conv2d "conv 1"\): "name" must be an identifier/, 0],
  ];

  it.each(invalid)('rejects %s, naming the problem', (_case, spec, pattern, layerIndex) => {
    let error: unknown;
    try {
      validateSpec(spec, 'models/bad.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SpecError);
    const e = error as SpecError;
    expect(e.message).toMatch(/^models\/bad\.json: invalid model spec: /);
    expect(e.message).toMatch(pattern);
    expect(e.source).toBe('models/bad.json');
    expect(e.layerIndex).toBe(layerIndex);
  });

  it('omits the source prefix when no source is given, and the other functions validate too', () => {
    const bad = withLayers((l) => l.splice(6, 1)) as ModelSpec;
    expect(() => validateSpec(bad)).toThrow(/^invalid model spec: layer 6 \(dense "fc1"\)/);
    for (const fn of [inferShapes, summarize, paramInfos, numClasses, inputSize]) {
      expect(() => fn(bad)).toThrow(SpecError);
    }
  });
});

describe('frozenSpec', () => {
  it('validates like validateSpec and returns a deep-frozen clean copy whose analysis is reused', () => {
    const source = getPreset('lenet5-modern');
    const frozen = frozenSpec(source);
    expect(frozen).toEqual(source);
    expect(frozen).not.toBe(source);
    expect(Object.isFrozen(frozen) && Object.isFrozen(frozen.layers) && Object.isFrozen(frozen.layers[0]) && Object.isFrozen(frozen.inputShape)).toBe(true);
    expect(Object.isFrozen(source)).toBe(false);
    // Same answers as the unfrozen spec; repeated calls return the same (frozen) analysis.
    expect(inferShapes(frozen)).toEqual(inferShapes(source));
    expect(inferShapes(frozen)).toBe(inferShapes(frozen));
    expect(paramInfos(frozen)).toEqual(paramInfos(source));
    expect(Object.isFrozen(paramInfos(frozen)[0])).toBe(true);
    expect([numClasses(frozen), inputSize(frozen)]).toEqual([10, 784]);
    expect(frozenSpec(frozen)).toBe(frozen);
    // validateSpec still hands out a mutable copy.
    const copy = validateSpec(frozen);
    expect(copy).toEqual(frozen);
    expect(Object.isFrozen(copy) || Object.isFrozen(copy.layers)).toBe(false);
    expect(() => frozenSpec({ ...source, layers: [] })).toThrow(SpecError);
  });
});
