/**
 * Machine-peak probe for a roofline: how many GFLOP/s onnxruntime-node's CPU EP reaches on one
 * large float32 MatMul (MLAS sgemm) with a given thread count. Node only (native addon).
 */
import { DataType, GraphBuilder, encodeModel } from './graph-builder.js';
import { hardwareThreads, loadOrtNode } from './backends.js';
import { PACKAGE_VERSION } from './version.js';

export interface MatMulPeakOptions {
  /** Intra-op threads (default: the hardware thread count). */
  threads?: number;
  /** Total measuring time in seconds, after one warm-up run (default 2). */
  seconds?: number;
  /** Number of equal windows, one GFLOP/s figure each (default 5). */
  windows?: number;
  /** Square size m = k = n (default 1024). */
  size?: number;
}

export interface MatMulPeak {
  /** GFLOP/s per window: 2*m*k*n per run, runs completed in the window / window seconds. */
  gflops: number[];
  shape: [number, number, number];
  runtime: string;
}

/** Runs Y = A·B ([m,k]·[k,n], float32, both graph inputs) repeatedly; see MatMulPeak. */
export async function measureMatMulPeak(options: MatMulPeakOptions = {}): Promise<MatMulPeak> {
  const threads = options.threads ?? (await hardwareThreads()) ?? 1;
  const seconds = options.seconds ?? 2;
  const windows = options.windows ?? 5;
  const size = options.size ?? 1024;
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`measureMatMulPeak: threads must be a positive integer, got ${String(threads)}`);
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw new RangeError(`measureMatMulPeak: seconds must be a positive number, got ${String(seconds)}`);
  if (!Number.isInteger(windows) || windows < 1) throw new RangeError(`measureMatMulPeak: windows must be a positive integer, got ${String(windows)}`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`measureMatMulPeak: size must be a positive integer, got ${String(size)}`);
  const [m, k, n] = [size, size, size];
  const g = new GraphBuilder();
  g.input('a', DataType.FLOAT, [m, k]);
  g.input('b', DataType.FLOAT, [k, n]);
  g.op('MatMul', ['a', 'b'], {}, 'y');
  g.output('y', DataType.FLOAT, [m, n]);
  const bytes = encodeModel(g.graph('matmul_peak'), { opset: 13, producerVersion: PACKAGE_VERSION });
  const ort = await loadOrtNode();
  const session = await ort.InferenceSession.create(bytes, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  try {
    const fill = (len: number, seed: number) => Float32Array.from({ length: len }, (_, i) => ((i * 2654435761 + seed) % 1000) / 1000 - 0.5);
    const feeds = { a: new ort.Tensor('float32', fill(m * k, 1), [m, k]), b: new ort.Tensor('float32', fill(k * n, 2), [k, n]) };
    // ORT writes into this preallocated tensor: no per-run allocation or copy in JS.
    const fetches = { y: new ort.Tensor('float32', new Float32Array(m * n), [m, n]) };
    await session.run(feeds, fetches); // warm-up (thread pool, packing buffers)
    const flopsPerRun = 2 * m * k * n;
    const windowMs = (seconds * 1000) / windows;
    const gflops: number[] = [];
    for (let w = 0; w < windows; w++) {
      let runs = 0;
      const t0 = performance.now();
      let t = t0;
      do {
        await session.run(feeds, fetches);
        runs++;
        t = performance.now();
      } while (t - t0 < windowMs);
      gflops.push((runs * flopsPerRun) / ((t - t0) / 1000) / 1e9);
    }
    return { gflops, shape: [m, k, n], runtime: `onnxruntime-node ${ort.env.versions.node} (CPU EP, MatMul/MLAS sgemm, ${threads} intra-op thread${threads === 1 ? '' : 's'})` };
  } finally {
    await session.release();
  }
}
