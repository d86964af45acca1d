import { beforeAll, describe, expect, it } from 'vitest';
import { CONFORMANCE_VARIANT, assertClose, randomImages, referenceForward } from '@lenet/core';
import type { ModelSpec } from '@lenet/model';
import { SpecError, WeightsError, getPreset, initWeights, inputSize, lenetVariant, numClasses } from '@lenet/model';
import { OnnxExportError, buildTrainingGraph, exportOnnx } from '../src/index.js';
import { onnx } from '../src/proto.js';
import { checkWithOnnx, onnxChecker, ort, session } from './helpers.js';

const SPECS: ModelSpec[] = [
  getPreset('lenet5'),
  getPreset('lenet5-modern'),
  CONFORMANCE_VARIANT,
  lenetVariant({ name: 'wide-tanh', inputShape: [3, 20, 20], convChannels: [5], kernelSize: 3, activation: 'tanh', pooling: 'max', poolSize: 3, denseUnits: [17], numClasses: 4 }),
];

describe('exportOnnx: format', () => {
  const spec = getPreset('lenet5');
  const bytes = exportOnnx(spec, initWeights(spec, 1));
  const model = onnx.ModelProto.decode(bytes);

  it('declares IR version 8, opset 13, named input/output with symbolic batch "N"', () => {
    expect(Number(model.irVersion)).toBe(8);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    const input = model.graph!.input!.find((i) => i.name === 'input')!;
    const dims = input.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(dims).toEqual(['N', 1, 28, 28]);
    const out = model.graph!.output!.map((o) => [o.name, o.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue))]);
    expect(out).toEqual([['logits', ['N', 10]]]);
  });

  it('uses the fusion-friendly op sequence and canonical initializer names', () => {
    expect(model.graph!.node!.map((n) => n.opType)).toEqual([
      'Conv', 'Sigmoid', 'AveragePool', 'Conv', 'Sigmoid', 'AveragePool', 'Flatten', 'Gemm', 'Sigmoid', 'Gemm', 'Sigmoid', 'Gemm',
    ]);
    expect(model.graph!.initializer!.map((t) => t.name)).toEqual([
      'conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias',
    ]);
    const meta = Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
    expect(meta['lenet.format']).toBe('lenet-bench/1');
    expect(JSON.parse(meta['lenet.spec']!).name).toBe('lenet5');
  });

  it('honours opset 14 and 15 and extra metadata', () => {
    for (const opset of [14, 15] as const) {
      const m = onnx.ModelProto.decode(exportOnnx(spec, initWeights(spec, 1), { opset, metadata: { run: 'x' } }));
      expect(Number(m.opsetImport[0].version)).toBe(opset);
      expect(m.metadataProps.find((p) => p.key === 'run')?.value).toBe('x');
    }
  });

  it('rejects unsupported options, bad specs and bad weights with clear errors', () => {
    const w = initWeights(spec, 1);
    expect(() => exportOnnx(spec, w, { opset: 12 as 13 })).toThrow(OnnxExportError);
    expect(() => exportOnnx(spec, w, { opset: 16 as 13 })).toThrow(/opset must be one of 13, 14, 15, got 16/);
    expect(() => exportOnnx(spec, w, { metadata: { 'lenet.spec': '{}' } })).toThrow(/reserved/);
    expect(() => exportOnnx({ ...spec, layers: [] }, w)).toThrow(SpecError);
    const missing = new Map(w);
    missing.delete('fc2.bias');
    expect(() => exportOnnx(spec, missing)).toThrow(WeightsError);
    expect(() => exportOnnx(spec, missing)).toThrow(/fc2\.bias/);
    expect(() => buildTrainingGraph(spec, { opset: 11 as 13 })).toThrow(OnnxExportError);
  });
});

describe.skipIf(onnxChecker !== true)('ONNX reference checker (python onnx, full_check)', () => {
  let results: ReturnType<typeof checkWithOnnx> = {};
  beforeAll(() => {
    const models: Record<string, Uint8Array> = {};
    for (const spec of SPECS) {
      for (const opset of [13, 14, 15] as const) models[`${spec.name} opset ${opset}`] = exportOnnx(spec, initWeights(spec, 2), { opset });
      models[`${spec.name} training`] = buildTrainingGraph(spec, { gradients: true }).bytes;
    }
    // A deliberately broken model: proves the checker really runs and reports.
    const broken = onnx.ModelProto.decode(exportOnnx(SPECS[0], initWeights(SPECS[0], 2)));
    (broken.graph!.node![3].input as string[])[1] = 'no_such_value';
    models.broken = onnx.ModelProto.encode(broken).finish();
    results = checkWithOnnx(models);
  }, 60_000);

  it('reports errors (a node reading an undefined value fails)', () => {
    expect(results.broken.error).toMatch(/no_such_value/);
  });

  for (const spec of SPECS) {
    it(`inference model of ${spec.name} passes at opsets 13, 14, 15`, () => {
      for (const opset of [13, 14, 15]) {
        const r = results[`${spec.name} opset ${opset}`];
        expect(r.error).toBeNull();
        expect(r.info).toMatch(new RegExp(`^8 ai\\.onnx:${opset} `));
      }
    });
    it(`training-step model of ${spec.name} passes`, () => {
      expect(results[`${spec.name} training`].error).toBeNull();
    });
  }
});

describe('exported models run in onnxruntime-node and match the reference forward', () => {
  for (const spec of SPECS) {
    it(spec.name, async () => {
      const weights = initWeights(spec, 3);
      const s = await session(exportOnnx(spec, weights));
      try {
        // Two batch sizes through the same session: the batch dimension is symbolic.
        for (const n of [1, 7]) {
          const x = randomImages(11 + n, n, inputSize(spec));
          const [c, h, w] = spec.inputShape;
          const out = await s.run({ input: new ort.Tensor('float32', x, [n, c, h, w]) });
          expect(out.logits.dims).toEqual([n, numClasses(spec)]);
          assertClose(`${spec.name} logits (n=${n})`, out.logits.data as Float32Array, referenceForward(spec, weights, x, n), { atol: 1e-5, rtol: 1e-4 });
        }
      } finally {
        await s.release();
      }
    });
  }
});
