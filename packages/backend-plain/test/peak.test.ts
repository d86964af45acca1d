import { describe, expect, it } from 'vitest';
// From dist: the kernel module (dist/kernels.wasm) is found next to the compiled wasm.js.
import { measureWasmSimdPeak } from '../dist/index.js';
import { TIERS } from './tiers.js';

// A probe for the report's roofline column: only its shape is tested, never its speed.
describe('measureWasmSimdPeak', () => {
  for (const { tier, unavailable } of TIERS) {
    it(`${tier}: one finite positive GFLOP/s figure per window, its kernel and tier named`, async (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const r = await measureWasmSimdPeak({ seconds: 0.2, windows: 3, tier });
      expect(r.gflops).toHaveLength(3);
      for (const v of r.gflops) {
        expect(Number.isFinite(v)).toBe(true);
        expect(v).toBeGreaterThan(0);
      }
      expect(r.tier).toBe(tier);
      expect(r.kernel).toMatch(tier === 'relaxed-simd' ? /relaxed_madd \(FMA/ : /mul\+add \(no FMA/);
    });
  }

  it('defaults to 5 windows and rejects bad options', async () => {
    expect((await measureWasmSimdPeak({ seconds: 0.1 })).gflops).toHaveLength(5);
    await expect(measureWasmSimdPeak({ seconds: 0 })).rejects.toThrow(/seconds must be a positive number/);
    await expect(measureWasmSimdPeak({ seconds: 0.1, windows: 0 })).rejects.toThrow(/windows must be a positive integer/);
  });
});
