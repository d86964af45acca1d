/**
 * The WebAssembly kernel tiers every tier-dependent test runs on: one `plain` backend per tier,
 * forced (so a test never silently runs the other one). The relaxed-SIMD tier needs an engine
 * that accepts relaxed SIMD: Node >= 21, or Node 20 with --experimental-wasm-relaxed-simd (which
 * vitest.config.ts passes); where it is missing its tests skip, saying so.
 */
import { PlainBackend, relaxedSimdSupported, type WasmTier } from '../dist/index.js';

export interface TierCase {
  tier: WasmTier;
  backend: PlainBackend;
  /** Why this tier cannot run here, or null when it can. */
  unavailable: string | null;
}

export const TIERS: readonly TierCase[] = (['simd128', 'relaxed-simd'] as const).map((tier) => ({
  tier,
  backend: new PlainBackend('plain', `plain, ${tier} tier forced`, true, tier),
  unavailable: tier === 'relaxed-simd' && !relaxedSimdSupported()
    ? `this engine (Node ${process.versions.node}) rejects WebAssembly relaxed SIMD`
    : null,
}));
