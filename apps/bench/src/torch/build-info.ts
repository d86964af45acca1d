/**
 * The PyTorch set-up of the reference, read from a running Python process (lenet_torch.py
 * --build-info), not assumed: which BLAS really provides torch's sgemm_, OpenBLAS's kernel set,
 * oneDNN, the ATen CPU capability, threads, and a small measured sgemm as evidence. Reports put
 * describeTorchBuild() in their headers and torchBuildWarning() next to the PyTorch column.
 */
import { spawnSync } from 'node:child_process';
import { LENET_TORCH_SCRIPT, pythonExecutable } from './python.js';

export type BlasKind = 'openblas' | 'mkl' | 'blis' | 'reference' | 'unknown';

export interface TorchBuild {
  schema: 'lenet-bench/torch-build';
  /** torch.__version__ (Debian's 1.13.1 reports "1.13.0a0"). */
  torch: string;
  python: string;
  pythonExecutable: string;
  blas: {
    kind: BlasKind;
    /** Real path (symlinks and alternatives resolved) of the BLAS in use; for OpenBLAS its core library. */
    library: string | null;
    /**
     * "dladdr(sgemm_)": the file whose sgemm_ libtorch_cpu's symbol lookup finds (robust when two
     * BLAS are mapped, e.g. reference libblas plus OpenBLAS pulled in by liblapack);
     * "proc-maps": classified from the mapped BLAS objects only (sgemm_ could not be resolved).
     */
    source: 'dladdr(sgemm_)' | 'proc-maps';
    /** Why sgemm_ could not be resolved, if it could not. */
    note: string | null;
    /** Only when kind is openblas: what the loaded OpenBLAS says about itself. */
    openblas: {
      library: string;
      /** openblas_get_config(), e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64". */
      config: string | null;
      version: string | null;
      threading: 'pthread' | 'openmp' | 'serial' | null;
      threads: number | null;
      /** Kernel set DYNAMIC_ARCH picked for this CPU (Prescott = generic SSE3 fallback). */
      coreType: string | null;
    } | null;
  };
  /** Every BLAS/LAPACK shared object in /proc/self/maps, as mapped and resolved. */
  blasObjects: { path: string; realPath: string }[];
  /** From torch.__config__.show(). */
  config: {
    blasInfo: string | null;
    lapackInfo: string | null;
    useMkldnn: string | null;
    useOpenmp: string | null;
    torchVersion: string | null;
    lines: string[];
  };
  mkldnn: { available: boolean; version: string | null };
  /** torch.backends.cpu.get_cpu_capability(), else "CPU capability usage" from the config (e.g. AVX2). */
  cpuCapability: string | null;
  cpuHasAvx512: boolean;
  /** torch.get_num_threads() / get_num_interop_threads() at start-up. */
  threads: number;
  interopThreads: number;
  /** Threading/BLAS-relevant variables that were set (OMP_NUM_THREADS, OPENBLAS_CORETYPE, LD_LIBRARY_PATH, ...). */
  env: Record<string, string>;
  /** Best of `reps` n x n float32 torch.mm: evidence of the BLAS's speed, not a benchmark. */
  sgemm: { n: number; reps: number; bestSeconds: number; gflops: number; threads: number };
}

export interface TorchBuildError {
  error: string;
}

export function isTorchBuild(x: TorchBuild | TorchBuildError): x is TorchBuild {
  return !('error' in x);
}

/** Runs `python lenet_torch.py --build-info` (timeout 120 s) and parses its JSON line. */
export function readTorchBuild(python: string = pythonExecutable(), env: NodeJS.ProcessEnv = process.env, timeoutMs = 120_000): TorchBuild | TorchBuildError {
  const r = spawnSync(python, [LENET_TORCH_SCRIPT, '--build-info'], { encoding: 'utf8', env, timeout: timeoutMs, maxBuffer: 4 << 20 });
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    return { error: timedOut ? `${python} ${LENET_TORCH_SCRIPT} --build-info took longer than ${timeoutMs / 1000} s` : `${python} could not be run (${r.error.message})` };
  }
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').at(-1) || `exit ${r.status ?? r.signal}`;
    return { error: `${python} ${LENET_TORCH_SCRIPT} --build-info failed: ${why}` };
  }
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    const build = JSON.parse(line) as TorchBuild;
    if (build.schema !== 'lenet-bench/torch-build' || !build.blas) return { error: `unexpected --build-info output: ${line.slice(0, 200)}` };
    return build;
  } catch {
    return { error: `--build-info printed no JSON: ${line.slice(0, 200)}` };
  }
}

/** OpenBLAS kernel sets that are generic fallbacks on a modern x86 CPU. */
const GENERIC_OPENBLAS_CORES = new Set(['prescott', 'core2', 'katmai', 'coppermine', 'northwood', 'banias', 'atom', 'nehalem']);

const INSTALL_FIX = 'fix: `apt-get install libopenblas0-pthread` (Debian/Ubuntu), or use pip\'s torch wheel, which bundles MKL/OpenBLAS';

/**
 * One line when the PyTorch column understates PyTorch, else null: the generic Netlib reference
 * BLAS (or an unknown BLAS with BLAS_INFO=generic), or OpenBLAS running its generic fallback
 * kernels on an AVX2/AVX-512 CPU it does not recognise.
 */
export function torchBuildWarning(build: TorchBuild): string | null {
  const gf = `${build.sgemm.gflops.toFixed(1)} GFLOP/s`;
  const { kind } = build.blas;
  if (kind === 'reference' || (kind === 'unknown' && build.config.blasInfo === 'generic')) {
    const what = kind === 'reference' ? `the generic reference BLAS (${build.blas.library ?? 'libblas.so.3'})` : `an unidentified BLAS (${build.blas.library ?? 'not found'}) with BLAS_INFO=generic`;
    return (
      `warning: PyTorch runs on ${what}: the PyTorch column understates PyTorch ` +
      `(reference BLAS: ~4 GFLOP/s sgemm instead of ~60 with OpenBLAS; measured here ${gf} at ${build.sgemm.n}x${build.sgemm.n}); ${INSTALL_FIX}`
    );
  }
  const core = build.blas.openblas?.coreType;
  const modernCpu = build.cpuHasAvx512 || /avx2|avx512/i.test(build.cpuCapability ?? '');
  if (kind === 'openblas' && core && GENERIC_OPENBLAS_CORES.has(core.toLowerCase()) && modernCpu) {
    const target = build.cpuHasAvx512 ? 'SkylakeX' : 'Haswell';
    return (
      `warning: OpenBLAS ${build.blas.openblas?.version ?? ''} did not recognise this CPU and runs its generic ${core} kernels ` +
      `(measured ${gf} sgemm at ${build.sgemm.n}x${build.sgemm.n}): the PyTorch column understates PyTorch; ` +
      `fix: OPENBLAS_CORETYPE=${target} in the environment, or a newer OpenBLAS / pip's torch wheel`
    );
  }
  return null;
}

const BLAS_NAMES: Record<BlasKind, string> = { openblas: 'OpenBLAS', mkl: 'MKL', blis: 'BLIS', reference: 'reference BLAS (Netlib)', unknown: 'unknown BLAS' };

/**
 * One line for report headers, e.g. "PyTorch 1.13.0a0 (Python 3.11.2), BLAS OpenBLAS 0.3.21 pthread,
 * SkylakeX kernels (/usr/lib/.../libopenblasp-r0.3.21.so), oneDNN 2.6.3, CPU capability AVX2,
 * 2 threads, sgemm 512: 60.1 GFLOP/s".
 */
export function describeTorchBuild(build: TorchBuild): string {
  const ob = build.blas.kind === 'openblas' ? build.blas.openblas : null;
  const blas = [BLAS_NAMES[build.blas.kind], ob?.version, ob?.threading].filter(Boolean).join(' ') + (ob?.coreType ? `, ${ob.coreType} kernels` : '');
  const dnnl = build.mkldnn.available ? `oneDNN ${build.mkldnn.version ?? 'yes'}` : 'oneDNN no';
  const threads = `${build.threads} thread${build.threads === 1 ? '' : 's'}` + (ob?.threads ? ` (OpenBLAS ${ob.threads})` : '');
  return [
    `PyTorch ${build.torch} (Python ${build.python})`,
    `BLAS ${blas} (${build.blas.library ?? 'library not found'})`,
    dnnl,
    `CPU capability ${build.cpuCapability ?? 'unknown'}`,
    threads,
    `sgemm ${build.sgemm.n}: ${build.sgemm.gflops.toFixed(1)} GFLOP/s`,
  ].join(', ');
}
