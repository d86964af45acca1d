/**
 * LeNet the way a TF.js user writes it: a `tf.sequential` of `tf.layers`, compiled with
 * `tf.train.sgd` and softmax cross-entropy on the logits, trained with `model.trainOnBatch`
 * and run with `model.predict` — the TensorFlow tab of d2l 7.6 in TypeScript:
 *
 *   tf.sequential({ layers: [
 *     tf.layers.conv2d({ filters: 6, kernelSize: 5, activation: 'sigmoid', padding: 'same' }),
 *     tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
 *     tf.layers.conv2d({ filters: 16, kernelSize: 5, activation: 'sigmoid' }),
 *     tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }),
 *     tf.layers.flatten(),
 *     tf.layers.dense({ units: 120, activation: 'sigmoid' }),
 *     tf.layers.dense({ units: 84, activation: 'sigmoid' }),
 *     tf.layers.dense({ units: 10 }) ] })
 *
 * No tuned kernels, no hand-written backward pass: autodiff and the stock kernels of the TF.js
 * backend, so these rows answer "what would I get with plain TF.js". The only thing not stock is
 * what `tfjs-layers-wasm` needs to train at all: tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter (tensorflow/tfjs#8474), so it registers this package's
 * (registerWasmConv2DBackpropFilter), the one import a TF.js user needs for wasm training.
 *
 * Needs the union package `@tensorflow/tfjs` (its Node build registers the gradients and
 * tf.layers; tfjs-core alone has no gradients in Node), imported on first use only.
 */
import type * as Tf from '@tensorflow/tfjs';
import type { BackendInfo, GpuAdapterInfo, SessionOptions, TrainingBackend, TrainingOptions, TrainingSession } from '@lenet/core';
import { BackendInputError, checkPredictInput, checkSessionInput, checkThreads, checkTrainInput, lazyRuntime, refuseOptimizer } from '@lenet/core';
import type { LayerSpec, ModelSpec, Weights } from '@lenet/model';
import { inferShapes, numClasses, paramInfos } from '@lenet/model';
import { activate, nodeWasmDir } from './backend.js';
import { registerWasmConv2DBackpropFilter } from './kernels/register.js';
import { denseFromTf, denseToTf, hwioToOihw, oihwToHwio } from './layout.js';
import { missingPeer } from './peers.js';

type TfModule = typeof Tf;

/**
 * The spec's layers as tf.layers, an activation that follows a conv/dense folded into it like
 * d2l writes it. PyTorch-style symmetric padding is `padding: 'same'` where that is the same
 * thing (stride 1, 2p = k - 1) and an explicit zeroPadding2d otherwise.
 */
export function lenetLayers(tf: TfModule, spec: ModelSpec): Tf.layers.Layer[] {
  const [c, h, w] = spec.inputShape;
  const layers: Tf.layers.Layer[] = [];
  const first = <T extends object>(args: T): T => (layers.length === 0 ? { ...args, inputShape: [h, w, c] } : args);
  spec.layers.forEach((layer: LayerSpec, i) => {
    const next = spec.layers[i + 1];
    const activation = next?.type === 'activation' ? next.fn : undefined;
    switch (layer.type) {
      case 'conv2d': {
        const k = layer.kernelSize;
        const stride = layer.stride ?? 1;
        const p = layer.padding ?? 0;
        const same = p > 0 && stride === 1 && 2 * p === k - 1;
        if (p > 0 && !same) layers.push(tf.layers.zeroPadding2d(first({ padding: p })));
        layers.push(tf.layers.conv2d(first({ filters: layer.outChannels, kernelSize: k, strides: stride, activation, padding: same ? 'same' : 'valid' })));
        break;
      }
      case 'activation': {
        const prev = spec.layers[i - 1];
        if (prev?.type !== 'conv2d' && prev?.type !== 'dense') layers.push(tf.layers.activation(first({ activation: layer.fn })));
        break;
      }
      case 'pool2d': {
        const args = first({ poolSize: layer.kernelSize, strides: layer.stride ?? layer.kernelSize });
        layers.push(layer.mode === 'avg' ? tf.layers.averagePooling2d(args) : tf.layers.maxPooling2d(args));
        break;
      }
      case 'flatten':
        layers.push(tf.layers.flatten(first({})));
        break;
      case 'dense':
        layers.push(tf.layers.dense(first({ units: layer.units, activation })));
        break;
    }
  });
  return layers;
}

/** Per parameter (paramInfos order): canonical <-> TF layout, and the TF shape. */
interface ParamLayout {
  name: string;
  shape: number[];
  toTf(d: Float32Array): Float32Array;
  fromTf(d: Float32Array): Float32Array;
}

function paramLayouts(spec: ModelSpec): ParamLayout[] {
  const shapes = inferShapes(spec);
  return paramInfos(spec).map((p) => {
    const layer = spec.layers[p.layerIndex]!;
    const same = (d: Float32Array) => d.slice();
    if (p.kind === 'bias') return { name: p.name, shape: p.shape, toTf: same, fromTf: same };
    if (layer.type === 'conv2d') {
      return { name: p.name, shape: p.shape, toTf: (d) => oihwToHwio(d, p.shape), fromTf: (d) => hwioToOihw(d, p.shape) };
    }
    // A dense layer right after a flatten of [C, H, W]: TF flattens NHWC (H, W, C), PyTorch (C, H, W).
    const prev = p.layerIndex > 0 ? spec.layers[p.layerIndex - 1] : undefined;
    const from = prev?.type === 'flatten' ? shapes[p.layerIndex - 1]!.inputShape : undefined;
    const flattenedFrom = from?.length === 3 && from[0]! > 1 && from[1]! * from[2]! > 1 ? from : undefined;
    return { name: p.name, shape: p.shape, toTf: (d) => denseToTf(d, p.shape, flattenedFrom), fromTf: (d) => denseFromTf(d, p.shape, flattenedFrom) };
  });
}

export class TfjsLayersSession implements TrainingSession {
  private disposed = false;

  constructor(
    private readonly tf: TfModule,
    private readonly name: string,
    private readonly tfBackend: string,
    private readonly spec: ModelSpec,
    private readonly model: Tf.Sequential,
    private readonly optimizer: Tf.SGDOptimizer,
    private readonly layouts: ParamLayout[],
  ) {}

  private async begin(): Promise<void> {
    if (this.disposed) throw new Error(`${this.name}: session used after dispose()`);
    await activate(this.tfBackend, this.name);
  }

  /** NCHW canonical images -> the NHWC batch tf.layers takes (same bytes for 1 channel). */
  private images(x: Float32Array, n: number): Tf.Tensor4D {
    const [c, h, w] = this.spec.inputShape;
    const data = x.subarray(0, n * c * h * w);
    if (c === 1) return this.tf.tensor4d(data, [n, h, w, 1]);
    return this.tf.tidy(() => this.tf.transpose(this.tf.tensor4d(data, [n, c, h, w]), [0, 2, 3, 1]));
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    checkPredictInput(this.spec, x, n);
    await this.begin();
    const input = this.images(x, n);
    const logits = this.model.predict(input, { batchSize: n }) as Tf.Tensor;
    try {
      return (await logits.data()) as Float32Array;
    } finally {
      input.dispose();
      logits.dispose();
    }
  }

  async trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    checkTrainInput(this.spec, x, y, n, lr);
    await this.begin();
    this.optimizer.setLearningRate(lr);
    const input = this.images(x, n);
    const labels = this.tf.tidy(() => this.tf.oneHot(this.tf.tensor1d(Int32Array.from(y.subarray(0, n)), 'int32'), numClasses(this.spec)));
    try {
      const loss = await this.model.trainOnBatch(input, labels);
      return Array.isArray(loss) ? loss[0]! : loss;
    } finally {
      input.dispose();
      labels.dispose();
    }
  }

  async getWeights(): Promise<Weights> {
    await this.begin();
    const out: Weights = new Map();
    const tensors = this.model.getWeights();
    this.layouts.forEach((p, i) => {
      out.set(p.name, { shape: [...p.shape], data: p.fromTf(tensors[i]!.dataSync() as Float32Array) });
    });
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose();
    this.optimizer.dispose();
  }
}

/** How a tf.layers backend loads its TF.js backend (after @tensorflow/tfjs itself). */
export interface LayersBackendDefinition {
  name: string;
  description: string;
  tfBackend: string;
  load(tf: TfModule): Promise<Record<string, string>>;
  /** Extra runtime details for info(), after the backend is initialised. */
  details?(tf: TfModule): Promise<string>;
  /** GPU backends (gpu.ts): the device the kernels run on, after the backend is initialised. */
  adapter?(tf: TfModule): GpuAdapterInfo;
}

/** A tf.layers backend on one TF.js backend (cpu and wasm here, webgl in gpu.ts). */
export function defineTfjsLayersBackend(def: LayersBackendDefinition): TrainingBackend {
  const runtime = lazyRuntime(
    def.name,
    async () => {
      const tf = (await import('@tensorflow/tfjs').catch((e: unknown) => {
        throw missingPeer('@tensorflow/tfjs', def.name, e);
      })) as TfModule;
      return { tf, versions: await def.load(tf) };
    },
    () => activate(def.tfBackend, def.name),
  );
  const ready = async (): Promise<TfModule> => (await runtime.ready()).tf;

  const backend = {
    name: def.name,
    description: def.description,
    available: runtime.available,
    async info(): Promise<BackendInfo> {
      const { tf, versions } = await runtime.ready();
      const details = (await def.details?.(tf)) ?? '';
      const gpu = def.adapter?.(tf);
      return {
        runtime: `tfjs ${tf.version.tfjs} tf.layers ${def.tfBackend}${details ? ` (${details})` : ''}`,
        versions: { '@tensorflow/tfjs': tf.version.tfjs, '@tensorflow/tfjs-layers': tf.version['tfjs-layers'], ...versions },
        // One CPU thread; a GPU backend's work runs in shaders (no thread count, as tfjs-webgl).
        ...(gpu ? { adapter: gpu.adapter, softwareFallback: gpu.softwareFallback } : { threads: 1 }),
      };
    },
    async createSession(spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<TfjsLayersSession> {
      checkThreads(def.name, options.threads); // tf.layers trains on one thread, but a bad value is an error
      const valid = checkSessionInput(spec, weights, def.name);
      const tf = await ready();
      let layers: Tf.layers.Layer[];
      try {
        layers = lenetLayers(tf, valid);
      } catch (e) {
        throw new BackendInputError(`${def.name}: spec '${valid.name}' cannot be built from tf.layers: ${e instanceof Error ? e.message : String(e)}`);
      }
      const model = tf.sequential({ layers });
      const optimizer = tf.train.sgd(0.1);
      model.compile({ optimizer, loss: (labels: Tf.Tensor, logits: Tf.Tensor) => tf.losses.softmaxCrossEntropy(labels, logits) });
      const layouts = paramLayouts(valid);
      // The shared seeded init, converted to TF layouts (HWIO, [in, out]).
      const initial = layouts.map((p) => tf.tensor(p.toTf(weights.get(p.name)!.data), model.getWeights()[layouts.indexOf(p)]!.shape));
      model.setWeights(initial);
      for (const t of initial) t.dispose();
      return new TfjsLayersSession(tf, def.name, def.tfBackend, valid, model, optimizer, layouts);
    },
    // One session type predicts and trains, with model.fit's plain tf.train.sgd only (the field as its users write it).
    createTrainingSession: async (spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<TfjsLayersSession> => {
      refuseOptimizer(def.name, options?.optimizer);
      return backend.createSession(spec, weights, options);
    },
  } satisfies TrainingBackend;
  return backend;
}

/** tf.layers on tfjs-backend-cpu (from @tensorflow/tfjs): stock kernels, autodiff. */
export function createTfjsLayersCpuBackend(options: { name?: string } = {}): TrainingBackend {
  return defineTfjsLayersBackend({
    name: options.name ?? 'tfjs-layers-cpu',
    description: 'TensorFlow.js 4.22 as users write it: tf.sequential + tf.layers + trainOnBatch, cpu backend, stock kernels',
    tfBackend: 'cpu',
    async load(tf) {
      return { '@tensorflow/tfjs-backend-cpu': tf.version['tfjs-backend-cpu'] };
    },
  });
}

export interface TfjsLayersWasmOptions {
  name?: string;
  /** Where the .wasm binaries are served from (see TfjsWasmOptions.wasmPaths). */
  wasmPaths?: string | Record<string, string>;
  /**
   * Register this package's Conv2DBackpropFilter for wasm (default true). false gives stock
   * tfjs-backend-wasm 4.22, whose first training step throws "Kernel 'Conv2DBackpropFilter'
   * not registered for backend 'wasm'" (tensorflow/tfjs#8474); inference works.
   */
  trainingKernels?: boolean;
}

/** tf.layers on tfjs-backend-wasm, trained thanks to registerWasmConv2DBackpropFilter(). */
export function createTfjsLayersWasmBackend(options: TfjsLayersWasmOptions = {}): TrainingBackend {
  const kernels = options.trainingKernels ?? true;
  return defineTfjsLayersBackend({
    name: options.name ?? (kernels ? 'tfjs-layers-wasm' : 'tfjs-layers-wasm-stock'),
    description: kernels
      ? 'TensorFlow.js 4.22 as users write it: tf.sequential + tf.layers + trainOnBatch, wasm backend + registerWasmConv2DBackpropFilter()'
      : 'TensorFlow.js 4.22 tf.layers on stock tfjs-backend-wasm (cannot train: no Conv2DBackpropFilter)',
    tfBackend: 'wasm',
    async load() {
      const wasm = await import('@tensorflow/tfjs-backend-wasm').catch((e: unknown) => {
        throw missingPeer('@tensorflow/tfjs-backend-wasm', options.name ?? 'tfjs-layers-wasm', e);
      });
      const paths = options.wasmPaths ?? nodeWasmDir();
      if (paths !== undefined) wasm.setWasmPaths(paths);
      if (kernels) registerWasmConv2DBackpropFilter();
      return { '@tensorflow/tfjs-backend-wasm': wasm.version_wasm };
    },
    async details(tf) {
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return `${simd ? 'simd' : 'no simd'}, 1 thread${kernels ? '; Conv2DBackpropFilter from @lenet/backend-tfjs' : '; stock kernels'}`;
    },
  });
}

export const tfjsLayersCpuBackend: TrainingBackend = createTfjsLayersCpuBackend();
export const tfjsLayersWasmBackend: TrainingBackend = createTfjsLayersWasmBackend();
