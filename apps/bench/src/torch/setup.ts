/**
 * The PyTorch reference at its strongest set-up a careful user would have. Debian's OpenBLAS 0.3.21
 * does not recognise recent Xeons and falls back to generic (Prescott) kernels, 3-4x slower sgemm;
 * OPENBLAS_CORETYPE for the CPU's real SIMD level fixes that. The env is kept only if a process
 * started with it then reports the fast kernels. Shared by `run` (the reference cell) and
 * `reproduce --backends pytorch`.
 */
import { isTorchBuild, readTorchBuild, torchBuildWarning, type TorchBuild } from './build-info.js';

export interface TorchSetup {
  /** The build as a plain start reports it (null when it could not be read). */
  build: TorchBuild | null;
  /** Extra environment for the PyTorch process, or null. */
  env: Record<string, string> | null;
  /** What was changed and why, for the report's notes. */
  note: string | null;
  /** A handicap that remains (e.g. the generic reference BLAS), for the user and the report header. */
  warning: string | null;
  /** Why the build could not be read. */
  error: string | null;
}

export function strongestTorchSetup(python: string, base: NodeJS.ProcessEnv = process.env): TorchSetup {
  const build = readTorchBuild(python, base);
  if (!isTorchBuild(build)) return { build: null, env: null, note: null, warning: null, error: build.error };
  const warning = torchBuildWarning(build);
  const core = build.blas.openblas?.coreType;
  if (warning && build.blas.kind === 'openblas' && core && !base.OPENBLAS_CORETYPE) {
    const target = build.cpuHasAvx512 ? 'SkylakeX' : 'Haswell';
    const tuned = readTorchBuild(python, { ...base, OPENBLAS_CORETYPE: target });
    if (isTorchBuild(tuned) && !torchBuildWarning(tuned)) {
      return {
        build,
        env: { OPENBLAS_CORETYPE: target },
        note:
          `PyTorch: OpenBLAS ${build.blas.openblas?.version ?? ''} does not recognise this CPU (generic ${core} kernels, ${build.sgemm.gflops.toFixed(1)} GFLOP/s sgemm ${build.sgemm.n}); ` +
          `the PyTorch process runs with OPENBLAS_CORETYPE=${target} (${tuned.sgemm.gflops.toFixed(1)} GFLOP/s), the strongest set-up of this torch`,
        warning: null,
        error: null,
      };
    }
  }
  return { build, env: null, note: null, warning: warning ? warning.replace(/^warning: /, '') : null, error: null };
}
