import { describe, expect, it } from 'vitest';
import { measureMatMulPeak } from '../src/node.js';

// A probe for the report's roofline column: only its shape is tested, never its speed.
describe('measureMatMulPeak (./node)', () => {
  it('returns one finite positive GFLOP/s figure per window, the shape and the runtime', async () => {
    const r = await measureMatMulPeak({ threads: 1, seconds: 0.3, windows: 3, size: 256 });
    expect(r.shape).toEqual([256, 256, 256]);
    expect(r.gflops).toHaveLength(3);
    for (const v of r.gflops) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
    expect(r.runtime).toMatch(/onnxruntime-node .*1 intra-op thread\)/);
  }, 60_000);

  it('defaults to 1024^3 and 5 windows; rejects bad options', async () => {
    const r = await measureMatMulPeak({ threads: 2, seconds: 0.2 });
    expect(r.shape).toEqual([1024, 1024, 1024]);
    expect(r.gflops).toHaveLength(5);
    await expect(measureMatMulPeak({ threads: 0 })).rejects.toThrow(/threads must be a positive integer/);
    await expect(measureMatMulPeak({ seconds: -1 })).rejects.toThrow(/seconds must be a positive number/);
  }, 60_000);
});
