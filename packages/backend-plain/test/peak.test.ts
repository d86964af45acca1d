import { describe, expect, it } from 'vitest';
// From dist: the kernel module (dist/kernels.wasm) is found next to the compiled wasm.js.
import { measureWasmSimdPeak } from '../dist/index.js';

// A probe for the report's roofline column: only its shape is tested, never its speed.
describe('measureWasmSimdPeak', () => {
  it('returns one finite positive GFLOP/s figure per window and names its kernel', async () => {
    const r = await measureWasmSimdPeak({ seconds: 0.2, windows: 3 });
    expect(r.gflops).toHaveLength(3);
    for (const v of r.gflops) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
    expect(r.kernel).toMatch(/f32x4/);
  });

  it('defaults to 5 windows and rejects bad options', async () => {
    expect((await measureWasmSimdPeak({ seconds: 0.1 })).gflops).toHaveLength(5);
    await expect(measureWasmSimdPeak({ seconds: 0 })).rejects.toThrow(/seconds must be a positive number/);
    await expect(measureWasmSimdPeak({ seconds: 0.1, windows: 0 })).rejects.toThrow(/windows must be a positive integer/);
  });
});
