/**
 * @lenet/backend-jax — LeNet on jax-js (@jax-js/jax, JAX in JavaScript) behind the @lenet/core
 * backend contract, written the way jax-js documents it: the forward pass as a function of
 * (params, x) — lax.convGeneralDilated (NCHW / OIHW, the canonical layouts, so the weights go in
 * as they are), lax.reduceWindow pooling, np.dot — the loss as softmax cross-entropy with
 * nn.logSoftmax, and the SGD step as `jit(valueAndGrad(loss))` followed by p - lr * g.
 *
 * jax-js's ownership rule: every function consumes its Array arguments; `.ref` (or tree.ref)
 * keeps one alive for another use. The session owns `params` and hands out refs.
 *
 * Node: the wasm device, single-threaded (jax-js's wasm threads need a global Worker, which Node
 * lacks). @jax-js/jax is an optional peer dependency, imported on first use: importing this
 * package loads nothing heavy.
 */
import type * as Jax from '@jax-js/jax';
import type { BackendInfo, GpuAdapterInfo, SessionOptions, TrainingBackend, TrainingOptions, TrainingSession } from '@lenet/core';
import { checkPredictInput, checkSessionInput, checkThreads, checkTrainInput, lazyRuntime, refuseOptimizer, requestWebgpuAdapter } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { numClasses, paramInfos } from '@lenet/model';

type JaxModule = typeof Jax;
type JaxArray = Jax.Array;
export type JaxDevice = Jax.Device;

const JAX_VERSION = '0.1.25';

/**
 * ReLU with derivative 0 at 0, as in JAX (whose nn.relu has a custom JVP for that), PyTorch and
 * the reference. jax-js 0.1.25's nn.relu is maximum(x, 0), whose gradient at exactly 0 is 1;
 * on Fashion-MNIST (black backgrounds, zero initial biases) many pre-activations are exactly 0,
 * and that alone moves the loss off the reference by 1e-4 at the second step.
 */
function relu(jax: JaxModule, x: JaxArray): JaxArray {
  return jax.numpy.where(x.ref.greater(0), x, 0);
}

/** The spec's forward pass: logits of x [n, C, H, W]; consumes params (paramInfos order) and x. */
export function lenetForward(jax: JaxModule, spec: ModelSpec, params: JaxArray[], x: JaxArray): JaxArray {
  const { lax, nn, numpy: np } = jax;
  let next = 0;
  const param = () => params[next++]!;
  let h = x;
  for (const layer of spec.layers) {
    switch (layer.type) {
      case 'conv2d': {
        const s = layer.stride ?? 1;
        const p = layer.padding ?? 0;
        const w = param();
        const b = param();
        h = lax.convGeneralDilated(h, w, [s, s], [[p, p], [p, p]]).add(b.reshape([layer.outChannels, 1, 1]));
        break;
      }
      case 'activation':
        h = layer.fn === 'sigmoid' ? nn.sigmoid(h) : layer.fn === 'relu' ? relu(jax, h) : np.tanh(h);
        break;
      case 'pool2d': {
        const k = layer.kernelSize;
        const s = layer.stride ?? k;
        h = lax.reduceWindow(h, layer.mode === 'max' ? (v) => np.max(v) : (v) => np.mean(v), [k, k], [s, s]);
        break;
      }
      case 'flatten':
        h = h.reshape([h.shape[0]!, -1]);
        break;
      case 'dense': {
        const w = param(); // [out, in]
        const b = param();
        h = np.dot(h, w.transpose()).add(b);
        break;
      }
    }
  }
  return h;
}

/** Mean softmax cross-entropy of the logits against one-hot labels; consumes its arguments. */
export function lenetLoss(jax: JaxModule, spec: ModelSpec, params: JaxArray[], x: JaxArray, oneHot: JaxArray): JaxArray {
  const n = x.shape[0]!;
  const logProbs = jax.nn.logSoftmax(lenetForward(jax, spec, params, x));
  return logProbs.mul(oneHot).sum().mul(-1 / n);
}

export class JaxSession implements TrainingSession {
  private disposed = false;
  private readonly forward: Jax.OwnedFunction<(params: JaxArray[], x: JaxArray) => JaxArray>;
  private readonly lossAndGrads: Jax.OwnedFunction<(params: JaxArray[], x: JaxArray, oneHot: JaxArray) => [JaxArray, JaxArray[]]>;

  constructor(
    private readonly jax: JaxModule,
    private readonly name: string,
    private readonly spec: ModelSpec,
    private params: JaxArray[],
  ) {
    this.forward = jax.jit((p: JaxArray[], x: JaxArray) => lenetForward(jax, spec, p, x));
    this.lossAndGrads = jax.jit(jax.valueAndGrad((p: JaxArray[], x: JaxArray, y: JaxArray) => lenetLoss(jax, spec, p, x, y))) as unknown as typeof this.lossAndGrads;
  }

  private begin(): void {
    if (this.disposed) throw new Error(`${this.name}: session used after dispose()`);
  }

  private images(x: Float32Array, n: number): JaxArray {
    const [c, h, w] = this.spec.inputShape;
    return this.jax.numpy.array(x.slice(0, n * c * h * w)).reshape([n, c, h, w]);
  }

  async predict(x: Float32Array, n: number): Promise<Float32Array> {
    checkPredictInput(this.spec, x, n);
    this.begin();
    const logits = this.forward(this.jax.tree.ref(this.params), this.images(x, n));
    return Float32Array.from((await logits.data()) as Float32Array);
  }

  async trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number> {
    checkTrainInput(this.spec, x, y, n, lr);
    this.begin();
    const { numpy: np, nn } = this.jax;
    const oneHot = nn.oneHot(np.array(Int32Array.from(y.subarray(0, n)), { dtype: np.int32 }), numClasses(this.spec));
    const [loss, grads] = this.lossAndGrads(this.jax.tree.ref(this.params), this.images(x, n), oneHot);
    // SGD: p <- p - lr * g (consumes the old params and the gradients).
    this.params = this.params.map((p, i) => p.sub(grads[i]!.mul(lr)));
    await this.jax.blockUntilReady(this.params);
    return ((await loss.data()) as Float32Array)[0]!;
  }

  async getWeights(): Promise<Weights> {
    this.begin();
    const out: Weights = new Map();
    const infos = paramInfos(this.spec);
    for (const [i, p] of infos.entries()) {
      out.set(p.name, { shape: [...p.shape], data: Float32Array.from((await this.params[i]!.ref.data()) as Float32Array) });
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.jax.tree.dispose(this.params);
    this.forward.dispose();
    this.lossAndGrads.dispose();
  }
}

export interface JaxBackendOptions {
  /** Contract name; default "jax-js" for wasm, "jax-js-<device>" otherwise. */
  name?: string;
  /** jax-js device: "wasm" (default; Node and browsers), "webgpu" / "webgl" (browsers). */
  device?: JaxDevice;
}

/**
 * Threads of jax-js's wasm device: with SharedArrayBuffer and a global Worker (a cross-origin
 * isolated page) it runs a pool of navigator.hardwareConcurrency workers; otherwise (Node, a
 * page without COOP/COEP) one thread.
 */
function wasmThreads(): number {
  const g = globalThis as { SharedArrayBuffer?: unknown; Worker?: unknown; navigator?: { hardwareConcurrency?: number } };
  if (typeof g.SharedArrayBuffer === 'undefined' || typeof g.Worker === 'undefined') return 1;
  return Math.max(1, g.navigator?.hardwareConcurrency || 4);
}

function missingPeer(backend: string, e: unknown): Error {
  const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
  return new Error(`${backend} needs the optional peer dependency @jax-js/jax, which could not be loaded: run \`npm install @jax-js/jax@${JAX_VERSION}\` (${msg})`, { cause: e });
}

/** A jax-js backend on one device. */
export function createJaxBackend(options: JaxBackendOptions = {}): TrainingBackend {
  const device: JaxDevice = options.device ?? 'wasm';
  const name = options.name ?? (device === 'wasm' ? 'jax-js' : `jax-js-${device}`);
  const runtime = lazyRuntime(
    name,
    async () => {
      const jax = (await import('@jax-js/jax').catch((e: unknown) => {
        throw missingPeer(name, e);
      })) as JaxModule;
      const available = await jax.init(device);
      if (!available.includes(device)) throw new Error(`jax-js device '${device}' is not available here (available: ${available.join(', ') || 'none'})`);
      return jax;
    },
    // defaultDevice is global: set it on every use so backends of two devices can share a page.
    (jax) => void jax.defaultDevice(device),
  );
  const ready = runtime.ready;

  const backend = {
    name,
    description: `jax-js ${JAX_VERSION} as its docs show: jit(valueAndGrad(loss)) SGD, lax.convGeneralDilated, ${device} device`,
    available: runtime.available,
    async info(): Promise<BackendInfo> {
      await ready();
      const threads = device === 'wasm' ? wasmThreads() : 1;
      // jax-js requests its WebGPU adapter with powerPreference high-performance: describe the same one.
      const gpu: GpuAdapterInfo | string | null = device === 'webgpu' ? await requestWebgpuAdapter('high-performance') : null;
      return {
        runtime: `jax-js ${JAX_VERSION} ${device}${device === 'wasm' ? ` (${threads} thread${threads === 1 ? '' : 's'})` : ''}`,
        versions: { '@jax-js/jax': JAX_VERSION },
        // The wasm device's threads; WebGPU's work runs in shaders (no thread count).
        ...(device === 'wasm' ? { threads } : {}),
        ...(gpu && typeof gpu !== 'string' ? { adapter: gpu.adapter, softwareFallback: gpu.softwareFallback } : {}),
      };
    },
    async createSession(spec: ModelSpec, weights: Weights, options: SessionOptions = {}): Promise<JaxSession> {
      checkThreads(name, options.threads); // one thread in Node whatever is asked, but a bad value is an error
      const valid = checkSessionInput(spec, weights, name);
      const jax = await ready();
      // The canonical layouts are jax-js's own (NCHW activations, OIHW kernels, dense [out, in]).
      const params = paramInfos(valid).map((p) => jax.numpy.array(weights.get(p.name)!.data.slice()).reshape(p.shape));
      return new JaxSession(jax, name, valid, params);
    },
    // One session type predicts and trains, with plain SGD only.
    createTrainingSession: async (spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<JaxSession> => {
      refuseOptimizer(name, options?.optimizer);
      return backend.createSession(spec, weights, options);
    },
  } satisfies TrainingBackend;
  return backend;
}

export const jaxBackend: TrainingBackend = createJaxBackend();
/** jax-js on WebGPU (browsers with WebGPU; available() says why not elsewhere). */
export const jaxWebgpuBackend: TrainingBackend = createJaxBackend({ device: 'webgpu' });

/** The backends of this package (what `lenet-bench` lists): jax-js on wasm. */
export const backends: TrainingBackend[] = [jaxBackend];
