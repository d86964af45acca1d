/**
 * The machine's peaks for the report's roofline column, measured in their own process during the
 * inference rounds (so they share the run's good and bad moments): a native GEMM (onnxruntime-node
 * MatMul on large float32 matrices, all threads) and a WebAssembly SIMD peak (backend-plain's own
 * register-resident f32x4 kernel, one thread). Commands: {type:'peak', kind, seconds, round};
 * answer: {type:'peakWindow', ...}. Missing probes answer with an error string, not a crash.
 */
type Probe = (o: { threads?: number; seconds: number; windows?: number }) => Promise<{ gflops: number[]; runtime?: string; kernel?: string; shape?: number[] }>;

async function probe(kind: 'native' | 'wasm'): Promise<Probe | string> {
  try {
    if (kind === 'native') {
      const mod = (await import('@lenet/backend-onnxruntime/node')) as Record<string, unknown>;
      return typeof mod.measureMatMulPeak === 'function' ? (mod.measureMatMulPeak as Probe) : 'this @lenet/backend-onnxruntime has no measureMatMulPeak';
    }
    const mod = (await import('@lenet/backend-plain')) as Record<string, unknown>;
    return typeof mod.measureWasmSimdPeak === 'function' ? (mod.measureWasmSimdPeak as Probe) : 'this @lenet/backend-plain has no measureWasmSimdPeak';
  } catch (err) {
    return (err as Error).message.split('\n')[0]!;
  }
}

const probes = new Map<string, Probe | string>();
const send = (m: unknown) => new Promise<void>((resolve) => (process.send ? process.send(m, undefined, {}, () => resolve()) : resolve()));

process.on('SIGINT', () => {});
process.on('disconnect', () => process.exit(1));
process.on('message', (raw) => {
  void (async () => {
    const c = raw as { type: string; kind?: 'native' | 'wasm'; seconds?: number; round?: number; threads?: number | null };
    if (c.type === 'exit') {
      await send({ type: 'done', peakRssMB: process.resourceUsage().maxRSS / 1024 });
      process.exit(0);
    }
    if (c.type !== 'peak' || !c.kind) return;
    if (!probes.has(c.kind)) probes.set(c.kind, await probe(c.kind));
    const p = probes.get(c.kind)!;
    if (typeof p === 'string') {
      await send({ type: 'peakWindow', kind: c.kind, round: c.round ?? 0, gflops: [], detail: null, unavailable: p });
      return;
    }
    try {
      const r = await p({ seconds: c.seconds ?? 0.3, threads: c.threads ?? undefined, windows: 2 });
      await send({ type: 'peakWindow', kind: c.kind, round: c.round ?? 0, gflops: r.gflops, detail: r.runtime ?? r.kernel ?? (r.shape ? `MatMul ${r.shape.join('x')}` : null), unavailable: null });
    } catch (err) {
      await send({ type: 'peakWindow', kind: c.kind, round: c.round ?? 0, gflops: [], detail: null, unavailable: (err as Error).message.split('\n')[0] });
    }
  })();
});
