/**
 * Loads the WebAssembly kernels (built from assembly/kernels.ts and the section files it
 * re-exports) and wraps them as a Kernels<Float32Array> whose arrays are views of the instance's
 * memory. Two modules are built from the same source: the relaxed-SIMD tier (the GEMM/conv
 * tiles' multiply-accumulates are `f32x4.relaxed_madd`, fused on CPUs with FMA) and the SIMD128
 * tier (`f32x4.mul` + `f32x4.add`).
 * The relaxed tier is chosen when this engine validates it (Node >= 21, Chrome >= 114; Node 20
 * with --experimental-wasm-relaxed-simd), the SIMD128 tier otherwise. Their bytes are inlined as
 * base64 at build time (src/generated/kernels-wasm.ts), so no file is read or fetched: Node,
 * esbuild, Vite and webpack bundles all get them with no asset handling.
 */
import type { ActivationFn } from '@lenet/model';
import type { Kernels } from './kernels.js';
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';

/** A WebAssembly kernel tier: fused multiply-add (relaxed SIMD) or mul + add (SIMD128). */
export type WasmTier = 'relaxed-simd' | 'simd128';
/** What to load: the best tier this engine accepts ('auto'), or one tier, forced. */
export type WasmTierChoice = WasmTier | 'auto';

/** Environment variable that forces a tier in Node (for tests and A/B runs): auto | relaxed-simd | simd128. */
export const WASM_TIER_ENV = 'LENET_PLAIN_WASM_TIER';

const TIER_CHOICES: readonly WasmTierChoice[] = ['auto', 'relaxed-simd', 'simd128'];

/** Human-readable name of a tier, as info().runtime and the report show it. */
export const WASM_TIER_LABEL: Record<WasmTier, string> = {
  'relaxed-simd': 'WebAssembly relaxed-SIMD kernels (f32x4.relaxed_madd)',
  simd128: 'WebAssembly SIMD128 kernels (f32x4 mul+add)',
};

/**
 * The tier asked for by LENET_PLAIN_WASM_TIER (Node; 'auto' when unset or in a browser).
 * Throws a one-line error naming the variable on any other value.
 */
export function wasmTierFromEnv(): WasmTierChoice {
  const env = typeof process !== 'undefined' ? process.env?.[WASM_TIER_ENV] : undefined;
  if (env === undefined || env === '') return 'auto';
  if (!(TIER_CHOICES as readonly string[]).includes(env)) {
    throw new Error(`${WASM_TIER_ENV}=${env}: expected one of ${TIER_CHOICES.join(', ')}`);
  }
  return env as WasmTierChoice;
}

/** A compiled kernel module and the tier it implements. */
export interface WasmKernelModule {
  module: WebAssembly.Module;
  tier: WasmTier;
}

const modulePromises = new Map<WasmTier, Promise<WebAssembly.Module | string>>();

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** A kernel module's bytes (a fresh copy); the SIMD128 tier unless asked otherwise. */
export function wasmKernelBytes(tier: WasmTier = 'simd128'): Uint8Array<ArrayBuffer> {
  return decodeBase64(tier === 'relaxed-simd' ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64);
}

/** Whether this engine accepts the relaxed-SIMD kernel module (validation only, no compile). */
export function relaxedSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(wasmKernelBytes('relaxed-simd'));
}

/** Compiles one tier's module once per process; resolves to it or to the reason it cannot load. */
function compileTier(tier: WasmTier): Promise<WebAssembly.Module | string> {
  let p = modulePromises.get(tier);
  if (!p) {
    p = (async () => {
      try {
        if (typeof WebAssembly !== 'object') return 'WebAssembly is not available';
        const bytes = wasmKernelBytes(tier);
        if (!WebAssembly.validate(bytes)) {
          return tier === 'relaxed-simd'
            ? 'this engine rejects WebAssembly relaxed SIMD (Node >= 21 and Chrome >= 114 have it; Node 20 needs --experimental-wasm-relaxed-simd)'
            : 'the kernel module does not validate (no WebAssembly SIMD support?)';
        }
        return await WebAssembly.compile(bytes);
      } catch (e) {
        return `compiling the WebAssembly kernels failed: ${(e as Error).message}`;
      }
    })();
    modulePromises.set(tier, p);
  }
  return p;
}

/**
 * The kernel module for `choice` (default: LENET_PLAIN_WASM_TIER, else 'auto'): with 'auto' the
 * relaxed-SIMD tier when this engine validates it, else SIMD128; with a forced tier that one or
 * the reason it cannot load. Resolves to a reason string when no WebAssembly kernels can be used
 * (never rejects, except for a bad LENET_PLAIN_WASM_TIER). Callers that fall back to the JS
 * kernels report that reason (info().runtime, a console warning), never silently.
 */
export async function loadWasmKernels(choice: WasmTierChoice = wasmTierFromEnv()): Promise<WasmKernelModule | string> {
  if (choice !== 'auto') {
    const m = await compileTier(choice);
    return typeof m === 'string' ? `${choice} tier forced but unavailable: ${m}` : { module: m, tier: choice };
  }
  const relaxed = await compileTier('relaxed-simd');
  if (typeof relaxed !== 'string') return { module: relaxed, tier: 'relaxed-simd' };
  const simd = await compileTier('simd128');
  return typeof simd === 'string' ? simd : { module: simd, tier: 'simd128' };
}

/** The compiled module of loadWasmKernels(choice), or the reason string (kept for callers of 0.1). */
export async function loadWasmModule(choice?: WasmTierChoice): Promise<WebAssembly.Module | string> {
  const k = await loadWasmKernels(choice);
  return typeof k === 'string' ? k : k.module;
}

interface KernelExports {
  gemm(M: number, N: number, K: number, a: number, sAi: number, sAk: number, b: number, sBk: number, sBj: number, c: number, acc: number): void;
  im2col(cin: number, h: number, w: number, k: number, s: number, pad: number, oh: number, ow: number, x: number, col: number): void;
  col2im(cin: number, h: number, w: number, k: number, s: number, pad: number, oh: number, ow: number, col: number, dx: number): void;
  convForward(cin: number, h: number, w: number, cout: number, k: number, pad: number, oh: number, ow: number,
    x: number, wt: number, bias: number, y: number, xp: number): void;
  convFilterGrad(cin: number, h: number, w: number, cout: number, k: number, pad: number, oh: number, ow: number,
    x: number, dy: number, dw: number, xp: number): void;
  activationForward(fn: number, len: number, x: number, y: number): void;
  activationBackward(fn: number, len: number, y: number, dy: number, dx: number): void;
  poolForward(mode: number, planes: number, h: number, w: number, k: number, s: number, oh: number, ow: number, x: number, y: number): void;
  poolBackward(mode: number, planes: number, h: number, w: number, k: number, s: number, oh: number, ow: number, x: number, dy: number, dx: number): void;
  sumRows(M: number, N: number, a: number, out: number): void;
  fillRows(M: number, N: number, b: number, y: number): void;
  kernelTier(): number;
}

const FN_CODE: Record<ActivationFn, number> = { sigmoid: 0, relu: 1, tanh: 2 };

export interface WasmArena {
  kernels: Kernels<Float32Array>;
  /** The tier the module implements (read from the module itself, so workers know it too). */
  tier: WasmTier;
  /** Float32 view of the whole instance memory (arena starts at element 0). */
  mem: Float32Array;
}

/** Instantiates the module with a private memory holding `floats` float32 elements. */
export function instantiateWasm(module: WebAssembly.Module, floats: number): WasmArena {
  const pages = Math.max(1, Math.ceil((floats * 4) / 65536));
  const memory = new WebAssembly.Memory({ initial: pages });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports as unknown as KernelExports;
  const mem = new Float32Array(memory.buffer);
  const tier: WasmTier = ex.kernelTier() === 1 ? 'relaxed-simd' : 'simd128';
  // Arrays passed in must be views of `mem`: element offsets become byte addresses.
  const kernels: Kernels<Float32Array> = {
    name: tier === 'relaxed-simd' ? 'wasm-relaxed-simd' : 'wasm-simd',
    gemm(M, N, K, A, aOff, sAi, sAk, B, bOff, sBk, sBj, C, cOff, accumulate) {
      ex.gemm(M, N, K, A.byteOffset + aOff * 4, sAi, sAk, B.byteOffset + bOff * 4, sBk, sBj, C.byteOffset + cOff * 4, accumulate ? 1 : 0);
    },
    im2col(g, x, xOff, col, colOff) {
      ex.im2col(g.inChannels, g.inH, g.inW, g.kernel, g.stride, g.padding, g.outH, g.outW, x.byteOffset + xOff * 4, col.byteOffset + colOff * 4);
    },
    col2im(g, col, colOff, dx, dxOff) {
      ex.col2im(g.inChannels, g.inH, g.inW, g.kernel, g.stride, g.padding, g.outH, g.outW, col.byteOffset + colOff * 4, dx.byteOffset + dxOff * 4);
    },
    convForward(g, x, xOff, w, wOff, b, bOff, scratch, scratchOff, y, yOff) {
      ex.convForward(g.inChannels, g.inH, g.inW, g.outChannels, g.kernel, g.padding, g.outH, g.outW,
        x.byteOffset + xOff * 4, w.byteOffset + wOff * 4, b.byteOffset + bOff * 4, y.byteOffset + yOff * 4, scratch.byteOffset + scratchOff * 4);
    },
    convFilterGrad(g, x, xOff, dy, dyOff, dw, dwOff, scratch, scratchOff) {
      ex.convFilterGrad(g.inChannels, g.inH, g.inW, g.outChannels, g.kernel, g.padding, g.outH, g.outW,
        x.byteOffset + xOff * 4, dy.byteOffset + dyOff * 4, dw.byteOffset + dwOff * 4, scratch.byteOffset + scratchOff * 4);
    },
    activationForward(fn, len, x, xOff, y, yOff) {
      ex.activationForward(FN_CODE[fn], len, x.byteOffset + xOff * 4, y.byteOffset + yOff * 4);
    },
    activationBackward(fn, len, y, yOff, dy, dyOff, dx, dxOff) {
      ex.activationBackward(FN_CODE[fn], len, y.byteOffset + yOff * 4, dy.byteOffset + dyOff * 4, dx.byteOffset + dxOff * 4);
    },
    poolForward(g, n, x, xOff, y, yOff) {
      ex.poolForward(g.mode === 'max' ? 1 : 0, n * g.channels, g.inH, g.inW, g.kernel, g.stride, g.outH, g.outW, x.byteOffset + xOff * 4, y.byteOffset + yOff * 4);
    },
    poolBackward(g, n, x, xOff, dy, dyOff, dx, dxOff) {
      ex.poolBackward(g.mode === 'max' ? 1 : 0, n * g.channels, g.inH, g.inW, g.kernel, g.stride, g.outH, g.outW,
        x.byteOffset + xOff * 4, dy.byteOffset + dyOff * 4, dx.byteOffset + dxOff * 4);
    },
    sumRows(M, N, a, aOff, out, outOff) {
      ex.sumRows(M, N, a.byteOffset + aOff * 4, out.byteOffset + outOff * 4);
    },
    fillRows(M, N, b, bOff, y, yOff) {
      ex.fillRows(M, N, b.byteOffset + bOff * 4, y.byteOffset + yOff * 4);
    },
  };
  return { kernels, tier, mem };
}

export interface WasmSimdPeakOptions {
  /** Total measuring time in seconds (default 1). */
  seconds?: number;
  /** Number of equal windows the time is split into, one GFLOP/s figure each (default 5). */
  windows?: number;
  /** Which tier's peak kernel to run (default: the tier loadWasmKernels() picks). */
  tier?: WasmTierChoice;
}

/**
 * Flops per round of the `simdPeak` kernel: 12 accumulators x 4 lanes x 2 (a multiply and an
 * add: two instructions in the SIMD128 tier, one relaxed_madd in the relaxed tier).
 */
const SIMD_PEAK_FLOPS_PER_ITER = 12 * 4 * 2;

const PEAK_KERNEL_LABEL: Record<WasmTier, string> = {
  'relaxed-simd': 'wasm relaxed SIMD f32x4.relaxed_madd (FMA: 2 flops/lane per instruction)',
  simd128: 'wasm SIMD128 f32x4 mul+add (no FMA: 2 flops/lane per instruction pair)',
};

/**
 * Single-thread WebAssembly SIMD peak of this engine and machine for one kernel tier: runs the
 * tier's `simdPeak` kernel (register-resident f32x4 multiply-add chains, 12 independent
 * accumulators: relaxed_madd in the relaxed tier, mul + add in SIMD128; 2 flops per lane either
 * way) and reports GFLOP/s per window. A roofline ceiling for the wasm tiers, not a benchmark of
 * LeNet. Rejects when the module cannot be loaded.
 */
export async function measureWasmSimdPeak(options: WasmSimdPeakOptions = {}): Promise<{ gflops: number[]; kernel: string; tier: WasmTier }> {
  const seconds = options.seconds ?? 1;
  const windows = options.windows ?? 5;
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError(`measureWasmSimdPeak: seconds must be a positive number, got ${String(seconds)}`);
  if (!Number.isInteger(windows) || windows < 1) throw new RangeError(`measureWasmSimdPeak: windows must be a positive integer, got ${String(windows)}`);
  const loaded = await loadWasmKernels(options.tier);
  if (typeof loaded === 'string') throw new Error(`measureWasmSimdPeak: ${loaded}`);
  const { module, tier } = loaded;
  const memory = new WebAssembly.Memory({ initial: 1 });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  const ex = instance.exports as unknown as { simdPeak(iters: number, out: number): void };
  const sink = new Float32Array(memory.buffer, 0, 1);
  // Calibrate: one call of ~5 ms, so the timer and call overhead are negligible.
  let iters = 1 << 16;
  for (;;) {
    const t0 = performance.now();
    ex.simdPeak(iters, 0);
    const ms = performance.now() - t0;
    if (ms >= 5 || iters >= 1 << 30) {
      iters = Math.max(1, Math.min(1 << 30, Math.round((iters * 5) / Math.max(ms, 1e-3))));
      break;
    }
    iters *= 4;
  }
  const gflops: number[] = [];
  const windowMs = (seconds * 1000) / windows;
  for (let w = 0; w < windows; w++) {
    let rounds = 0;
    const t0 = performance.now();
    let t = t0;
    do {
      ex.simdPeak(iters, 0);
      rounds++;
      t = performance.now();
    } while (t - t0 < windowMs);
    gflops.push((rounds * iters * SIMD_PEAK_FLOPS_PER_ITER) / ((t - t0) / 1000) / 1e9);
    await new Promise((r) => setTimeout(r, 0)); // let the event loop breathe between windows
  }
  if (!Number.isFinite(sink[0])) throw new Error('measureWasmSimdPeak: kernel produced a non-finite value');
  return { gflops, tier, kernel: `${PEAK_KERNEL_LABEL[tier]}, 12 independent register accumulators, 1 thread` };
}
