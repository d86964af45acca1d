/**
 * The backend contract, modelled on onnxruntime-common's split: this package holds only the
 * contract (plus the shared training loop, metrics and reference); backends implement it.
 * A capability is an optional method, stated once: a backend that can train has
 * `createTrainingSession` (like onnxruntime-common's optional `createTrainingSessionHandler`),
 * and the TrainingSession it returns always has `trainStep`.
 */
import type { ModelSpec, Weights } from '@lenet/model';

export interface SessionOptions {
  /**
   * Worker / intra-op threads, an integer in [1, MAX_THREADS] (checkThreads). Default: backend's
   * choice (usually all cores).
   */
  threads?: number;
  /** Largest batch the caller will pass; lets backends pre-allocate. */
  maxBatchSize?: number;
}

/**
 * Training-session optimizer options (TrainingOptions.optimizer), torch.optim.SGD's semantics;
 * every field defaults to plain SGD. The rule itself is optimizer.ts's sgdMomentumUpdate.
 */
export interface OptimizerOptions {
  /** Momentum factor μ in [0, 1). Default 0 (no momentum). */
  momentum?: number;
  /** L2 weight decay (added to the gradient, as torch.optim.SGD), finite and >= 0. Default 0. */
  weightDecay?: number;
  /** Nesterov momentum (needs momentum > 0). Default false. */
  nesterov?: boolean;
}

/**
 * Options of createTrainingSession. `optimizer` defaults to plain SGD; a backend that cannot
 * apply a non-default optimizer rejects it by name (refuseOptimizer), never ignores it. The
 * optimizer state (momentum's velocity) belongs to the session: it lives across trainStep calls
 * and starts at 0 in every new session.
 */
export interface TrainingOptions extends SessionOptions {
  /** Momentum / Nesterov / weight decay, torch.optim.SGD semantics (optimizer.ts). */
  optimizer?: OptimizerOptions;
}

/** A session that runs the model: what every backend's createSession returns. */
export interface BackendSession {
  /**
   * Forward pass. `x` holds n images, NCHW float32 in [0, 1], length n*C*H*W.
   * Returns logits, length n*numClasses, owned by the caller.
   */
  predict(x: Float32Array, n: number): Promise<Float32Array>;
  /** Current parameters in canonical layout and order. */
  getWeights(): Promise<Weights>;
  /** Frees native/worker resources. The session is unusable afterwards. */
  dispose(): Promise<void>;
}

/** A session that can also train: what Backend.createTrainingSession returns. */
export interface TrainingSession extends BackendSession {
  /**
   * One SGD step on mean softmax cross-entropy over the n samples: w <- w - lr * dL/dw, or the
   * session's optimizer (TrainingOptions.optimizer, sgdMomentumUpdate) when it has one. Returns the mean loss computed in the forward pass of this step
   * (before the update). `y` holds n class indices.
   */
  trainStep(x: Float32Array, y: Int32Array, n: number, lr: number): Promise<number>;
}

export interface BackendInfo {
  /** e.g. "onnxruntime-node 1.30.0", "tfjs 4.22.0 wasm (simd, 2 threads)". */
  runtime: string;
  /** Package versions involved, name -> version. */
  versions: Record<string, string>;
  threads?: number;
  /**
   * GPU backends only: the device that runs the kernels, as the browser names it (WebGL's
   * unmasked renderer, WebGPU's adapter info), e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader
   * Device (Subzero)))" or "WebGPU: google swiftshader (fallback adapter)".
   */
  adapter?: string;
  /**
   * GPU backends only: true when that device is a CPU emulation (SwiftShader, llvmpipe,
   * lavapipe, a WebGPU fallback adapter), so its timings say nothing about a real GPU.
   */
  softwareFallback?: boolean;
}

export interface Backend {
  /** Stable id used on the command line, e.g. "plain", "tfjs-wasm", "ort-node". */
  readonly name: string;
  /** One-line description for `lenet-bench backends`. */
  readonly description: string;
  /**
   * Resolves to true when usable in this environment, or to a reason string when not
   * (e.g. "tfjs-node is not installed"). Must not throw.
   */
  available(): Promise<true | string>;
  /** Versions / runtime details for reports. */
  info(options?: SessionOptions): Promise<BackendInfo>;
  /**
   * Builds a session for the spec with the given initial weights (copied, not retained).
   * Rejects with BackendInputError for weights that do not match the spec.
   */
  createSession(spec: ModelSpec, weights: Weights, options?: SessionOptions): Promise<BackendSession>;
  /**
   * Present exactly when the backend can train: like createSession (same checks, same copy of
   * the weights), but the session also has trainStep. Absent on inference-only backends.
   */
  createTrainingSession?(spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<TrainingSession>;
}

/** A backend whose createTrainingSession is present (see canTrain). */
export type TrainingBackend = Backend & Required<Pick<Backend, 'createTrainingSession'>>;

/** Whether `backend` can train, i.e. has createTrainingSession; narrows the type. */
export function canTrain(backend: Backend): backend is TrainingBackend {
  return typeof backend.createTrainingSession === 'function';
}

/** Bad input to a backend (wrong shapes, wrong weights, bad n). The message says what was expected. */
export class BackendInputError extends Error {
  override name = 'BackendInputError';
}

/** The most threads a session may ask for (SessionOptions.threads), for every backend. */
export const MAX_THREADS = 256;

/**
 * The one validator of SessionOptions.threads: undefined (the backend's default) or an integer
 * in [1, MAX_THREADS]; anything else is a BackendInputError naming the backend.
 */
export function checkThreads(backend: string, threads: unknown): number | undefined {
  if (threads === undefined) return undefined;
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new BackendInputError(`${backend}: options.threads must be an integer in [1, ${MAX_THREADS}], got ${String(threads)}`);
  }
  return threads;
}
