/**
 * The forward pass of a spec as ONNX nodes, shared by the inference export and the training
 * graph. Op choices follow what torch.onnx emits for LeNet (Conv with bias, Sigmoid/Relu/Tanh,
 * AveragePool/MaxPool, Flatten, Gemm with transB=1) because onnxruntime's graph optimiser
 * recognises exactly these patterns (Conv+activation fusion, Gemm with pre-packed weights).
 */
import type { LayerSpec, ModelSpec, ParamInfo } from '@lenet/model';
import { inferShapes, paramInfos } from '@lenet/model';
import type { GraphBuilder } from './graph-builder.js';
import { int, ints } from './graph-builder.js';

/** What the backward pass needs to know about one layer. */
export interface ForwardStep {
  index: number;
  layer: LayerSpec;
  /** Value name of the layer's input / output. */
  input: string;
  output: string;
  /** Shapes without the batch dimension. */
  inputShape: number[];
  outputShape: number[];
  /** Parameter value names (conv2d/dense only). */
  weight?: string;
  bias?: string;
  weightInfo?: ParamInfo;
  biasInfo?: ParamInfo;
}

export const ACTIVATION_OPS = { sigmoid: 'Sigmoid', relu: 'Relu', tanh: 'Tanh' } as const;

/** onnxruntime's CPU-only blocked-layout operator domain (ReorderOutput, Conv on NCHWc data). */
export const NCHWC_DOMAIN = 'com.microsoft.nchwc';

export interface ForwardOptions {
  /**
   * onnxruntime's NCHWc block size on this machine (16 with AVX-512, 8 with AVX2), if its
   * com.microsoft.nchwc kernels are usable. Convs with fewer input channels than the block and
   * a multiple of it as output channels (LeNet's conv2, 6 -> 16) then run as an NCHWc Conv with
   * the activation fused. ORT only rewrites convs with constant weights to NCHWc by itself; the
   * training graph's weights are inputs, so the filter is reordered in the graph (2,400 floats
   * for conv2). The direct NCHWc kernel is ~2x faster than the im2col+GEMM path at these shapes.
   */
  nchwcBlock?: number;
}

/** Whether a conv layer can take the NCHWc path (plain NCHW input, output channels in whole blocks). */
export function nchwcEligible(cin: number, cout: number, block: number | undefined): block is number {
  return block !== undefined && block > 1 && cin < block && cout % block === 0;
}

/** Parameter infos grouped by owning layer index. */
export function paramsByLayer(spec: ModelSpec): Map<number, { weight: ParamInfo; bias: ParamInfo }> {
  const byLayer = new Map<number, { weight?: ParamInfo; bias?: ParamInfo }>();
  for (const p of paramInfos(spec)) {
    const entry = byLayer.get(p.layerIndex) ?? {};
    entry[p.kind] = p;
    byLayer.set(p.layerIndex, entry);
  }
  const out = new Map<number, { weight: ParamInfo; bias: ParamInfo }>();
  for (const [i, e] of byLayer) {
    if (!e.weight || !e.bias) throw new Error(`layer ${i}: expected a weight and a bias parameter`);
    out.set(i, { weight: e.weight, bias: e.bias });
  }
  return out;
}

/**
 * Appends the forward pass. `paramValue(name)` gives the graph value holding a parameter
 * (an initializer for inference, a graph input for training). Returns the steps in order;
 * the last step's output is the logits [N, classes].
 */
export function buildForward(
  g: GraphBuilder,
  spec: ModelSpec,
  input: string,
  paramValue: (info: ParamInfo) => string,
  logitsName?: string,
  options: ForwardOptions = {},
): ForwardStep[] {
  const infos = inferShapes(spec);
  const params = paramsByLayer(spec);
  const steps: ForwardStep[] = [];
  let x = input;
  // Output of an activation already applied inside the preceding NCHWc conv.
  let fusedActivation: string | undefined;
  spec.layers.forEach((layer, i) => {
    const info = infos[i];
    const last = i === spec.layers.length - 1;
    const out = last ? logitsName : undefined;
    const step: ForwardStep = {
      index: i,
      layer,
      input: x,
      output: '',
      inputShape: info.inputShape,
      outputShape: info.outputShape,
    };
    switch (layer.type) {
      case 'conv2d': {
        const p = params.get(i)!;
        step.weight = paramValue(p.weight);
        step.bias = paramValue(p.bias);
        step.weightInfo = p.weight;
        step.biasInfo = p.bias;
        const k = layer.kernelSize;
        const s = layer.stride ?? 1;
        const pad = layer.padding ?? 0;
        const next = spec.layers[i + 1];
        if (!last && nchwcEligible(info.inputShape[0], layer.outChannels, options.nchwcBlock)) {
          const block = options.nchwcBlock;
          const [cin] = info.inputShape;
          const o = layer.outChannels;
          // Filter layout for NCHW input: [O/B, Cin, k, k, B] (output channel within its block innermost).
          const blocked = g.op('Reshape', [step.weight, g.int64Tensor('nchwc_filter_split', [5], [o / block, block, cin, k, k])]);
          const filter = g.op('Reshape', [
            g.op('Transpose', [blocked], { perm: ints([0, 2, 3, 4, 1]) }),
            g.int64Tensor('nchwc_filter_shape', [4], [o, cin, k, k]),
          ]);
          const act = next?.type === 'activation' && i + 1 < spec.layers.length - 1 ? ACTIVATION_OPS[next.fn] : undefined;
          const attrs = { kernel_shape: ints([k, k]), strides: ints([s, s]), pads: ints([pad, pad, pad, pad]), dilations: ints([1, 1]), group: int(1) };
          const [y] = g.node('Conv', [x, filter, step.bias], act ? { ...attrs, activation: { s: act } } : attrs, { domain: NCHWC_DOMAIN });
          [step.output] = g.node('ReorderOutput', [y], { channels: int(o) }, { domain: NCHWC_DOMAIN });
          // With the activation fused, the conv step's output is the activation's (nothing reads
          // the pre-activation: the backward uses the activation output).
          if (act) fusedActivation = step.output;
          break;
        }
        step.output = g.op(
          'Conv',
          [x, step.weight, step.bias],
          { kernel_shape: ints([k, k]), strides: ints([s, s]), pads: ints([pad, pad, pad, pad]), dilations: ints([1, 1]), group: int(1) },
          out,
        );
        break;
      }
      case 'activation':
        step.output = fusedActivation ?? g.op(ACTIVATION_OPS[layer.fn], [x], {}, out);
        fusedActivation = undefined;
        break;
      case 'pool2d': {
        const k = layer.kernelSize;
        const s = layer.stride ?? k;
        step.output = g.op(
          layer.mode === 'avg' ? 'AveragePool' : 'MaxPool',
          [x],
          { kernel_shape: ints([k, k]), strides: ints([s, s]), pads: ints([0, 0, 0, 0]) },
          out,
        );
        break;
      }
      case 'flatten':
        step.output = g.op('Flatten', [x], { axis: int(1) }, out);
        break;
      case 'dense': {
        const p = params.get(i)!;
        step.weight = paramValue(p.weight);
        step.bias = paramValue(p.bias);
        step.weightInfo = p.weight;
        step.biasInfo = p.bias;
        step.output = g.op('Gemm', [x, step.weight, step.bias], { transB: int(1) }, out);
        break;
      }
    }
    x = step.output;
    steps.push(step);
  });
  return steps;
}
