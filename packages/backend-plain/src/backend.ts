/**
 * The two plain backends: "plain" (fastest tier available: WebAssembly relaxed-SIMD kernels when
 * the engine accepts them, else WebAssembly SIMD128, else TypeScript) and "plain-js" (TypeScript
 * kernels only, the reference tier).
 */
import type { Backend, BackendInfo, SessionOptions, SgdMomentum, TrainingOptions } from '@lenet/core';
import { BackendInputError, checkOptimizer, checkSessionInput, checkThreads } from '@lenet/core';
import type { ModelSpec, Weights } from '@lenet/model';
import { loadWasmKernels, wasmTierFromEnv, WASM_TIER_ENV, WASM_TIER_LABEL, type WasmKernelModule, type WasmTierChoice } from './wasm.js';
import { PlainSession } from './session.js';
import { platform } from './platform.js';

/** Package version, reported by info(). */
export const VERSION = '0.1.0';

/** Default capacity (samples) pre-allocated per session; grows on demand. */
const DEFAULT_MAX_BATCH = 256;

async function resolveThreads(name: string, options?: SessionOptions): Promise<number> {
  const t = checkThreads(name, options?.threads);
  if (t === undefined) return Math.max(1, await platform().hardwareThreads());
  const p = platform();
  if (t > 1 && !p.startWorker) throw new BackendInputError(`${name}: ${p.noThreadsReason ?? 'threads > 1 is not supported here'}`);
  return t;
}

function resolveMaxBatch(name: string, options?: SessionOptions): number {
  const m = options?.maxBatchSize;
  if (m === undefined) return DEFAULT_MAX_BATCH;
  if (!Number.isInteger(m) || m < 1) {
    throw new BackendInputError(`${name}: options.maxBatchSize must be a positive integer, got ${String(m)}`);
  }
  return m;
}

function nodeVersion(): string {
  return typeof process !== 'undefined' && process.versions?.node ? process.versions.node : 'unknown';
}

let warnedFallback = false;
/** Falling back to the slower TypeScript kernels is said once, loudly, never silently. */
function warnJsFallback(name: string, reason: string): void {
  if (warnedFallback) return;
  warnedFallback = true;
  console.warn(`@lenet/backend-plain: ${name} runs the TypeScript kernels (WebAssembly SIMD unavailable: ${reason})`);
}

/** A plain backend; its sessions are PlainSessions, which predict and train. */
export class PlainBackend implements Backend {
  /**
   * @param wasmTier which WebAssembly tier to use: 'auto' (default: LENET_PLAIN_WASM_TIER if
   *   set, else relaxed SIMD when the engine accepts it, else SIMD128) or one tier, forced.
   */
  constructor(
    readonly name: string,
    readonly description: string,
    private readonly useWasm: boolean,
    private readonly wasmTier: WasmTierChoice = 'auto',
  ) {}

  async available(): Promise<true | string> {
    return true;
  }

  /** The tier asked for: the constructor's, else the environment's. */
  private tierChoice(): WasmTierChoice {
    if (this.wasmTier !== 'auto') return this.wasmTier;
    try {
      return wasmTierFromEnv();
    } catch (e) {
      throw new BackendInputError(`${this.name}: ${(e as Error).message}`);
    }
  }

  /** The compiled kernel module and its tier, or the reason why this backend runs the JS kernels. */
  private async module(): Promise<WasmKernelModule | string> {
    return this.useWasm ? loadWasmKernels(this.tierChoice()) : 'plain-js uses the TypeScript kernels';
  }

  async info(options?: SessionOptions): Promise<BackendInfo> {
    const threads = await resolveThreads(this.name, options);
    const m = await this.module();
    const tier = typeof m === 'string' ? (this.useWasm ? `TypeScript kernels (WebAssembly SIMD unavailable: ${m})` : 'TypeScript kernels') : WASM_TIER_LABEL[m.tier];
    return {
      runtime: `${this.name} ${VERSION}: ${tier}, ${threads} thread${threads === 1 ? '' : 's'}`,
      versions: { '@lenet/backend-plain': VERSION, node: nodeVersion() },
      threads,
    };
  }

  async createSession(spec: ModelSpec, weights: Weights, options?: SessionOptions): Promise<PlainSession> {
    return this.newSession(spec, weights, options, undefined);
  }

  private async newSession(spec: ModelSpec, weights: Weights, options: SessionOptions | undefined, optimizer: SgdMomentum | undefined): Promise<PlainSession> {
    const valid = checkSessionInput(spec, weights, this.name);
    const threads = await resolveThreads(this.name, options);
    const maxBatchSize = resolveMaxBatch(this.name, options);
    const m = await this.module();
    if (typeof m === 'string' && this.useWasm) {
      // A tier that was asked for by name is never replaced by a slower one behind the caller's back.
      if (this.tierChoice() !== 'auto') {
        throw new BackendInputError(`${this.name}: ${m}${this.wasmTier === 'auto' ? ` (set by ${WASM_TIER_ENV})` : ''}`);
      }
      warnJsFallback(this.name, m);
    }
    return PlainSession.create({
      backendName: this.name,
      spec: valid,
      weights,
      module: typeof m === 'string' ? null : m.module,
      threads,
      maxBatchSize,
      ...(optimizer ? { optimizer } : {}),
    });
  }

  /** The same PlainSession as createSession (one session type predicts and trains), with the optimizer. */
  async createTrainingSession(spec: ModelSpec, weights: Weights, options?: TrainingOptions): Promise<PlainSession> {
    return this.newSession(spec, weights, options, checkOptimizer(this.name, options?.optimizer));
  }
}

export const plainBackend: PlainBackend = new PlainBackend(
  'plain',
  'Pure TypeScript LeNet with WebAssembly SIMD GEMM kernels (relaxed-SIMD FMA tier when the engine has it, else SIMD128; falls back to plain-js), worker-thread data parallelism',
  true,
);

export const plainJsBackend: PlainBackend = new PlainBackend(
  'plain-js',
  'Pure TypeScript LeNet (typed arrays, register-blocked GEMM), worker-thread data parallelism',
  false,
);

export const backends: Backend[] = [plainBackend, plainJsBackend];
