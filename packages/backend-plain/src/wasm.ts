/**
 * Loads the WebAssembly SIMD kernels (built from assembly/kernels.ts) and wraps them as a
 * Kernels<Float32Array> whose arrays are views of the instance's memory. The module's bytes
 * are inlined as base64 at build time (src/generated/kernels-wasm.ts), so no file is read or
 * fetched: Node, esbuild, Vite and webpack bundles all get them with no asset handling.
 */
import type { ActivationFn } from '@lenet/model';
import type { Kernels } from './kernels.js';
import { KERNELS_WASM_BASE64 } from './generated/kernels-wasm.js';

let modulePromise: Promise<WebAssembly.Module | string> | undefined;

function decodeBase64(b64: string): Uint8Array<ArrayBuffer> {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The kernel module's bytes (a fresh copy). */
export function wasmKernelBytes(): Uint8Array<ArrayBuffer> {
  return decodeBase64(KERNELS_WASM_BASE64);
}

/**
 * Compiles the kernel module once per process. Resolves to the module, or to a reason string
 * when WebAssembly (SIMD) is unavailable (never rejects). Callers that fall back to the JS
 * kernels report that reason (info().runtime, a console warning), never silently.
 */
export function loadWasmModule(): Promise<WebAssembly.Module | string> {
  modulePromise ??= (async () => {
    try {
      if (typeof WebAssembly !== 'object') return 'WebAssembly is not available';
      const bytes = wasmKernelBytes();
      if (!WebAssembly.validate(bytes)) return 'the kernel module does not validate (no WebAssembly SIMD support?)';
      return await WebAssembly.compile(bytes);
    } catch (e) {
      return `compiling the WebAssembly kernels failed: ${(e as Error).message}`;
    }
  })();
  return modulePromise;
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
}

const FN_CODE: Record<ActivationFn, number> = { sigmoid: 0, relu: 1, tanh: 2 };

export interface WasmArena {
  kernels: Kernels<Float32Array>;
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
  // Arrays passed in must be views of `mem`: element offsets become byte addresses.
  const kernels: Kernels<Float32Array> = {
    name: 'wasm-simd',
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
  return { kernels, mem };
}

export interface WasmSimdPeakOptions {
  /** Total measuring time in seconds (default 1). */
  seconds?: number;
  /** Number of equal windows the time is split into, one GFLOP/s figure each (default 5). */
  windows?: number;
}

/** Flops per round of the `simdPeak` kernel: 12 accumulators x 4 lanes x (mul + add). */
const SIMD_PEAK_FLOPS_PER_ITER = 12 * 4 * 2;

/**
 * Single-thread WebAssembly SIMD peak of this engine and machine: runs the `simdPeak` kernel
 * (register-resident f32x4 mul+add chains, 12 independent accumulators; wasm SIMD has no FMA,
 * so mul + add = 2 flops per lane) and reports GFLOP/s per window. A roofline ceiling for the
 * wasm tiers, not a benchmark of LeNet. Rejects when the SIMD module cannot be loaded.
 */
export async function measureWasmSimdPeak(options: WasmSimdPeakOptions = {}): Promise<{ gflops: number[]; kernel: string }> {
  const seconds = options.seconds ?? 1;
  const windows = options.windows ?? 5;
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError(`measureWasmSimdPeak: seconds must be a positive number, got ${String(seconds)}`);
  if (!Number.isInteger(windows) || windows < 1) throw new RangeError(`measureWasmSimdPeak: windows must be a positive integer, got ${String(windows)}`);
  const module = await loadWasmModule();
  if (typeof module === 'string') throw new Error(`measureWasmSimdPeak: ${module}`);
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
  return { gflops, kernel: 'wasm SIMD f32x4 mul+add (no FMA: 2 flops/lane), 12 independent register accumulators, 1 thread' };
}
