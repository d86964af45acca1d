/**
 * Run-time check for onnxruntime's NCHWc kernels (com.microsoft.nchwc domain), which the
 * training graph can use for some forward convs (see ForwardOptions.nchwcBlock in forward.ts).
 * They exist only in x86-64 builds of the CPU EP and their blocked layout depends on the
 * machine's vector width, so ort-node asks the runtime instead of guessing: ReorderInput pads
 * 4 channels up to the block size, and one training step of a tiny model with an NCHWc conv
 * must match the plain graph's step. Anything else (missing kernels, a different layout) means
 * the plain graph is used.
 */
import type { ModelSpec } from '@lenet/model';
import { initWeights, paramInfos } from '@lenet/model';
import { DataType, GraphBuilder, encodeModel } from './graph-builder.js';
import { NCHWC_DOMAIN } from './forward.js';
import type { OrtModule } from './ort-module.js';
import { buildTrainingGraph } from './training-graph.js';

const probes = new WeakMap<OrtModule, Promise<number | undefined>>();

/** The NCHWc block size if the runtime's NCHWc conv kernels work as the training graph uses them, else undefined. */
export function nchwcBlockSize(ort: OrtModule): Promise<number | undefined> {
  let probe = probes.get(ort);
  if (!probe) {
    probe = probeBlock(ort).catch(() => undefined);
    probes.set(ort, probe);
  }
  return probe;
}

async function probeBlock(ort: OrtModule): Promise<number | undefined> {
  const options = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 };
  const g = new GraphBuilder();
  g.input('x', DataType.FLOAT, [1, 4, 1, 1]);
  g.node('ReorderInput', ['x'], {}, { outputs: ['y'], domain: NCHWC_DOMAIN });
  g.output('y', DataType.FLOAT, null);
  const reorder = await ort.InferenceSession.create(encodeModel(g.graph('nchwc_probe'), { opset: 13, domains: { [NCHWC_DOMAIN]: 1 }, producerVersion: '' }), options);
  const block = (await reorder.run({ x: new ort.Tensor('float32', new Float32Array(4), [1, 4, 1, 1]) })).y.dims[1];
  await reorder.release();
  if (!(block > 1)) return undefined;

  const spec: ModelSpec = {
    name: 'nchwc-probe',
    inputShape: [3, 6, 6],
    layers: [
      { type: 'conv2d', outChannels: block, kernelSize: 3, padding: 1 },
      { type: 'activation', fn: 'tanh' },
      { type: 'flatten' },
      { type: 'dense', units: 3 },
    ],
  };
  const n = 2;
  const weights = initWeights(spec, 1);
  const feeds: Record<string, InstanceType<OrtModule['Tensor']>> = {
    input: new ort.Tensor('float32', Float32Array.from({ length: n * 108 }, (_, i) => Math.sin(i * 0.7)), [n, 3, 6, 6]),
    labels: new ort.Tensor('int32', Int32Array.from([1, 2]), [n]),
    lr: new ort.Tensor('float32', Float32Array.of(0.5), []),
  };
  for (const p of paramInfos(spec)) feeds[p.name] = new ort.Tensor('float32', weights.get(p.name)!.data, p.shape);
  const run = async (nchwcBlock?: number) => {
    const s = await ort.InferenceSession.create(buildTrainingGraph(spec, { nchwcBlock }).bytes, options);
    const out = await s.run(feeds);
    await s.release();
    return out;
  };
  const [plain, blocked] = [await run(), await run(block)];
  for (const name of Object.keys(plain)) {
    const a = plain[name].data as Float32Array;
    const b = blocked[name].data as Float32Array;
    for (let i = 0; i < a.length; i++) if (!(Math.abs(a[i] - b[i]) <= 1e-5 * (1 + Math.abs(a[i])))) return undefined;
  }
  return block;
}
