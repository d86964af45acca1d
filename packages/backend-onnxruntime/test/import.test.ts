import { describe, expect, it } from 'vitest';
import { CONFORMANCE_VARIANT } from '@lenet/core';
import type { Weights } from '@lenet/model';
import { getPreset, initWeights } from '@lenet/model';
import { OnnxFormatError, exportOnnx, importOnnx } from '../src/index.js';
import { onnx } from '../src/proto.js';
import type { onnxTypes } from '../src/proto.js';

function expectSameWeights(got: Weights, want: Weights): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, t] of want) {
    expect(got.get(name)!.shape).toEqual(t.shape);
    expect(Array.from(got.get(name)!.data)).toEqual(Array.from(t.data));
  }
}

interface Editable {
  model: onnxTypes.ModelProto;
  nodes: onnxTypes.NodeProto[];
  inits: onnxTypes.TensorProto[];
}

/** Re-encodes an exported model after `edit` mutates its decoded ModelProto. */
function edited(bytes: Uint8Array, edit: (e: Editable) => void): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const graph = model.graph as onnxTypes.GraphProto;
  edit({ model, nodes: graph.node as onnxTypes.NodeProto[], inits: graph.initializer as onnxTypes.TensorProto[] });
  return onnx.ModelProto.encode(model).finish();
}

describe('importOnnx round trip', () => {
  for (const spec of [getPreset('lenet5'), getPreset('lenet5-modern'), CONFORMANCE_VARIANT]) {
    it(`${spec.name}: spec from metadata, bit-identical weights`, () => {
      const weights = initWeights(spec, 5);
      const back = importOnnx(exportOnnx(spec, weights), 'm.onnx');
      expect(back.specSource).toBe('metadata');
      expect(back.spec).toEqual(spec);
      expectSameWeights(back.weights, weights);
      expect(back.metadata['lenet.format']).toBe('lenet-bench/1');
    });
  }

  it('rebuilds the spec from the graph when metadata is absent and initializers have foreign names', () => {
    // Like a torch.onnx export of nn.Sequential: no lenet.* metadata, parameters "0.weight", ….
    const spec = CONFORMANCE_VARIANT;
    const weights = initWeights(spec, 6);
    const foreign = edited(exportOnnx(spec, weights), ({ model, nodes, inits }) => {
      model.metadataProps = [];
      const rename = new Map(inits.map((t, i) => [t.name, `${i >> 1}.${i % 2 ? 'bias' : 'weight'}`]));
      for (const t of inits) t.name = rename.get(t.name)!;
      for (const n of nodes) n.input = n.input.map((i) => rename.get(i) ?? i);
    });
    const back = importOnnx(foreign, 'torch.onnx');
    expect(back.specSource).toBe('graph');
    expect(back.spec.layers).toEqual(
      spec.layers.map((l) =>
        l.type === 'pool2d' ? { ...l, stride: l.stride ?? l.kernelSize } : l.type === 'conv2d' ? { stride: 1, padding: 0, ...l } : l,
      ),
    );
    expectSameWeights(back.weights, weights);
  });
});

describe('importOnnx rejects malformed input with OnnxFormatError naming the source', () => {
  const spec = getPreset('lenet5');
  const good = exportOnnx(spec, initWeights(spec, 1));
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty file', new Uint8Array(0), /bad\.onnx: file is empty/],
    ['random bytes', Uint8Array.from({ length: 64 }, (_, i) => (i * 97 + 13) & 255), /bad\.onnx: not an ONNX model/],
    ['truncated file', good.subarray(0, good.length >> 1), /bad\.onnx: not an ONNX model/],
    ['JSON text', new TextEncoder().encode('{"layers": []}'), /bad\.onnx: not an ONNX model/],
    [
      'missing initializer',
      edited(good, ({ model, inits }) => (model.graph!.initializer = inits.filter((t) => t.name !== 'conv2.bias'))),
      /parameter "conv2\.bias" \[16\] has no initializer/,
    ],
    [
      'wrong data type',
      edited(good, ({ inits }) => (inits.find((t) => t.name === 'fc1.bias')!.dataType = onnx.TensorProto.DataType.DOUBLE)),
      /initializer "fc1\.bias" has data type 11, expected FLOAT/,
    ],
    [
      'raw data of the wrong length',
      edited(good, ({ inits }) => {
        const t = inits.find((x) => x.name === 'fc3.weight')!;
        t.rawData = t.rawData.subarray(0, 100);
      }),
      /initializer "fc3\.weight" has 100 bytes of raw data, expected 3360/,
    ],
    [
      'shape that does not fit the spec',
      edited(good, ({ inits }) => {
        const t = inits.find((x) => x.name === 'fc3.bias')!;
        t.dims = [2, 5];
      }),
      /fc3\.bias/,
    ],
    [
      'non-JSON spec metadata',
      edited(good, ({ model }) => (model.metadataProps.find((p) => p.key === 'lenet.spec')!.value = '{oops')),
      /metadata "lenet\.spec" is not valid JSON/,
    ],
    [
      'unsupported operator without metadata',
      edited(good, ({ model, nodes }) => {
        model.metadataProps = [];
        nodes[1].opType = 'Softplus';
      }),
      /cannot rebuild the model spec from the graph .*node 1 \(Softplus\): unsupported operator/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(OnnxFormatError);
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(message);
    });
  }
});
