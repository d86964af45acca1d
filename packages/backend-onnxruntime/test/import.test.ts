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
      /cannot rebuild the model spec from the graph .*node "[^"]+" \(#1, Softplus\): unsupported operator/,
    ],
  ];
  for (const [what, bytes, message] of cases) {
    it(what, () => {
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(OnnxFormatError);
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(message);
    });
  }
});

/** An attribute as protobufjs expects it. */
const A = onnx.AttributeProto.AttributeType;
const intA = (name: string, i: number) => onnx.AttributeProto.create({ name, type: A.INT, i });
const floatA = (name: string, f: number) => onnx.AttributeProto.create({ name, type: A.FLOAT, f });
const intsA = (name: string, ints: number[]) => onnx.AttributeProto.create({ name, type: A.INTS, ints });
const strA = (name: string, s: string) => onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(s) });

describe('importOnnx: the graph decides, metadata must agree, unimplemented attributes are rejected', () => {
  const spec = getPreset('lenet5');
  const good = exportOnnx(spec, initWeights(spec, 1));
  const setAttr = (n: onnxTypes.NodeProto, a: onnxTypes.AttributeProto) => {
    n.attribute = [...n.attribute.filter((x) => x.name !== a.name), a];
  };
  const byOp = (nodes: onnxTypes.NodeProto[], op: string, k = 0) => nodes.filter((n) => n.opType === op)[k]!;

  it('metadata saying sigmoid over a graph with Relu: rejected naming the node (was evaluated as sigmoid)', () => {
    const bytes = edited(good, ({ nodes }) => (byOp(nodes, 'Sigmoid').opType = 'Relu'));
    const name = onnx.ModelProto.decode(bytes).graph!.node!.find((n) => n.opType === 'Relu')!.name!;
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(OnnxFormatError);
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(new RegExp(`disagrees with the graph at layer 1, node "${name}" \\(#1, Relu\\): expected activation relu \\(graph\\), got activation sigmoid \\(metadata\\)`));
    // Without the metadata the same graph imports as what it computes: ReLU.
    const noMeta = edited(bytes, ({ model }) => (model.metadataProps = []));
    expect(importOnnx(noMeta, 'm.onnx').spec.layers[1]).toEqual({ type: 'activation', fn: 'relu' });
  });

  it('metadata with another channel count than the graph: rejected', () => {
    const bytes = edited(good, ({ model }) => {
      const p = model.metadataProps.find((x) => x.key === 'lenet.spec')!;
      const m = JSON.parse(p.value!);
      m.layers[7].units = 100;
      p.value = JSON.stringify(m);
    });
    expect(() => importOnnx(bytes, 'm.onnx')).toThrow(/disagrees with the graph at layer 7, node "[^"]+" \(#7, Gemm\): expected dense 120 units \(graph\), got dense 100 units \(metadata\)/);
  });

  const cases: [string, (nodes: onnxTypes.NodeProto[]) => void, RegExp][] = [
    ['Gemm alpha=0, beta=0 (scored 5.17% instead of a constant)', (nodes) => { setAttr(byOp(nodes, 'Gemm'), floatA('alpha', 0)); setAttr(byOp(nodes, 'Gemm'), floatA('beta', 0)); }, /\(#\d+, Gemm\): attribute alpha=0 is not implemented \(expected 1\)/],
    ['Gemm beta=0.5', (nodes) => setAttr(byOp(nodes, 'Gemm', 1), floatA('beta', 0.5)), /Gemm\): attribute beta=0.5 is not implemented \(expected 1\)/],
    ['Gemm transA=1', (nodes) => setAttr(byOp(nodes, 'Gemm'), intA('transA', 1)), /Gemm\): attribute transA=1 is not implemented \(expected 0\)/],
    ['Conv dilations=[2, 2]', (nodes) => setAttr(byOp(nodes, 'Conv'), intsA('dilations', [2, 2])), /Conv\): attribute dilations=\[2, 2\] is not implemented/],
    ['Conv auto_pad=SAME_UPPER', (nodes) => setAttr(byOp(nodes, 'Conv'), strA('auto_pad', 'SAME_UPPER')), /Conv\): attribute auto_pad="SAME_UPPER" is not implemented/],
    ['Conv group=2', (nodes) => setAttr(byOp(nodes, 'Conv', 1), intA('group', 2)), /Conv\): attribute group=2 is not implemented/],
    ['AveragePool ceil_mode=1', (nodes) => setAttr(byOp(nodes, 'AveragePool'), intA('ceil_mode', 1)), /AveragePool\): attribute ceil_mode=1 is not implemented/],
    ['AveragePool pads=[1, 1, 1, 1] with count_include_pad', (nodes) => { setAttr(byOp(nodes, 'AveragePool'), intsA('pads', [1, 1, 1, 1])); setAttr(byOp(nodes, 'AveragePool'), intA('count_include_pad', 1)); }, /AveragePool\): attribute pads=\[1, 1, 1, 1\] is not implemented/],
    ['AveragePool count_include_pad=2', (nodes) => setAttr(byOp(nodes, 'AveragePool'), intA('count_include_pad', 2)), /AveragePool\): attribute count_include_pad=2 is not implemented/],
    ['an attribute the operator does not have', (nodes) => setAttr(byOp(nodes, 'Sigmoid'), floatA('gamma', 2)), /Sigmoid\): attribute gamma=2 is not implemented/],
    ['Flatten axis=2', (nodes) => setAttr(byOp(nodes, 'Flatten'), intA('axis', 2)), /Flatten\): attribute axis=2 is not implemented/],
  ];
  for (const [what, edit, message] of cases) {
    it(what, () => {
      const bytes = edited(good, ({ nodes }) => edit(nodes));
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(OnnxFormatError);
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(message);
      // The node is named in the message.
      expect(() => importOnnx(bytes, 'bad.onnx')).toThrow(/node "node_/);
    });
  }

  it('attributes with their implemented values are accepted (torch-style AveragePool count_include_pad=1, explicit alpha=beta=1)', () => {
    const bytes = edited(good, ({ nodes }) => {
      setAttr(byOp(nodes, 'AveragePool'), intA('count_include_pad', 1));
      setAttr(byOp(nodes, 'AveragePool'), intA('ceil_mode', 0));
      setAttr(byOp(nodes, 'Gemm'), floatA('alpha', 1));
      setAttr(byOp(nodes, 'Gemm'), floatA('beta', 1));
      setAttr(byOp(nodes, 'Conv'), strA('auto_pad', 'NOTSET'));
    });
    expect(importOnnx(bytes, 'ok.onnx').spec).toEqual(spec);
  });
});
