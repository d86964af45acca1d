/**
 * The API both entries export (index.ts for Node, index.browser.ts for browsers).
 * @lenet/backend-plain — a LeNet backend with no ML framework underneath: forward, backward
 * and SGD for every layer a @lenet/model spec allows, in TypeScript (tier "plain-js") or with
 * WebAssembly SIMD GEMM kernels (tier "plain": relaxed-SIMD FMA or SIMD128), data-parallel over worker threads.
 */
export { plainBackend, plainJsBackend, backends, PlainBackend, VERSION } from './backend.js';
export { PlainSession } from './session.js';
export type { PlainSessionConfig } from './session.js';
// Building blocks, exported for benchmarks and for reuse (a per-thread executor and kernels).
export { buildPlan } from './plan.js';
export type { Plan, Op, TensorSlot } from './plan.js';
export { Engine } from './engine.js';
export type { OpTimer } from './engine.js';
export { jsKernels } from './kernels.js';
export { gemm } from './gemm.js';
export type { Kernels, FloatArray } from './kernels.js';
export {
  loadWasmModule, loadWasmKernels, instantiateWasm, wasmKernelBytes, measureWasmSimdPeak, relaxedSimdSupported,
  wasmTierFromEnv, WASM_TIER_ENV, WASM_TIER_LABEL,
} from './wasm.js';
export type { WasmArena, WasmSimdPeakOptions, WasmTier, WasmTierChoice, WasmKernelModule } from './wasm.js';
export { CHUNK } from './runner.js';
export { platform } from './platform.js';
export type { Platform, PlatformWorker } from './platform.js';
