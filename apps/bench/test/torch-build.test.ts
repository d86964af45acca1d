// The PyTorch build facts are read from a real Python process: the machine's torch as installed,
// and the same torch made to load the generic reference BLAS through LD_LIBRARY_PATH (the loader
// really maps it; we check /proc/self/maps through the reported objects). The warning and the
// one-line description are unit-tested on injected build dicts.
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeTorchBuild, isTorchBuild, readTorchBuild, torchBuildWarning, type TorchBuild } from '../src/torch/build-info.js';
import { pythonExecutable } from '../src/torch/python.js';

const python = pythonExecutable();
const probe = readTorchBuild(python);
const torchMissing = isTorchBuild(probe) ? null : probe.error;
if (torchMissing) console.warn(`torch build tests skipped: ${python} cannot import torch (${torchMissing}); apt-get install python3-torch`);

/** Debian/Ubuntu's Netlib reference BLAS (package libblas3). */
const REFERENCE_BLAS = '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3';
/** What the libblas.so.3 alternative points at (Debian: OpenBLAS when libopenblas0-pthread is installed). */
const SYSTEM_LIBBLAS = '/usr/lib/x86_64-linux-gnu/libblas.so.3';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-torch-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe.skipIf(!!torchMissing)('build facts of the real torch process', () => {
  it('the machine as is: the BLAS found matches what libblas.so.3 resolves to (OpenBLAS here)', () => {
    const build = probe as TorchBuild;
    expect(build.schema).toBe('lenet-bench/torch-build');
    expect(build.torch).toMatch(/^\d+\.\d+/);
    expect(build.python).toMatch(/^3\.\d+/);
    expect(build.blas.source).toBe('dladdr(sgemm_)');
    expect(build.threads).toBeGreaterThanOrEqual(1);
    expect(build.sgemm.gflops).toBeGreaterThan(0);
    expect(build.mkldnn.available).toBe(true);
    const expected = existsSync(SYSTEM_LIBBLAS) && realpathSync(SYSTEM_LIBBLAS).includes('openblas') ? 'openblas' : null;
    if (expected === null) {
      console.warn(`${SYSTEM_LIBBLAS} does not resolve to OpenBLAS here: only checking that a kind was found (${build.blas.kind})`);
      expect(build.blas.kind).not.toBe('unknown');
      return;
    }
    expect(build.blas.kind).toBe('openblas');
    expect(build.blas.library).toMatch(/libopenblas[^/]*\.so/);
    expect(build.blas.openblas?.version).toMatch(/^0\.\d+\.\d+/);
    expect(build.blas.openblas?.config).toMatch(/^OpenBLAS /);
    expect(build.blasObjects.some((o) => o.realPath === build.blas.library)).toBe(true);
    expect(describeTorchBuild(build)).toMatch(/^PyTorch \S+ \(Python 3\.\d+\.\d+\), BLAS OpenBLAS 0\.\d+\.\d+/);
  });

  it.skipIf(!existsSync(REFERENCE_BLAS))(
    `the generic BLAS for real: LD_LIBRARY_PATH puts ${REFERENCE_BLAS} first, the process maps it, kind "reference", warning given`,
    () => {
      // A folder whose libblas.so.3 is the reference library, searched before the system paths.
      const dir = mkdtempSync(join(tmp, 'refblas-'));
      symlinkSync(realpathSync(REFERENCE_BLAS), join(dir, 'libblas.so.3'));
      const env = { ...process.env, LD_LIBRARY_PATH: [dir, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':') };
      const build = readTorchBuild(python, env);
      if (!isTorchBuild(build)) throw new Error(build.error);
      const ref = realpathSync(REFERENCE_BLAS);
      // The loader really mapped the reference library (/proc/self/maps of the Python process) ...
      expect(build.blasObjects.map((o) => o.realPath)).toContain(ref);
      // ... and it is the one whose sgemm_ torch calls (OpenBLAS may still be mapped via liblapack).
      expect(build.blas).toMatchObject({ kind: 'reference', library: ref, source: 'dladdr(sgemm_)', openblas: null });
      expect(build.env.LD_LIBRARY_PATH).toContain(dir);
      const warning = torchBuildWarning(build);
      expect(warning).toMatch(/^warning: PyTorch runs on the generic reference BLAS \(.*libblas\.so\.3.*\): the PyTorch column understates PyTorch/);
      expect(warning).toMatch(/~4 GFLOP\/s sgemm instead of ~60/);
      expect(warning).toMatch(/apt-get install libopenblas0-pthread/);
      expect(warning).toMatch(/pip's torch wheel/);
      expect(warning!.split('\n')).toHaveLength(1);
      expect(describeTorchBuild(build)).toMatch(/BLAS reference BLAS \(Netlib\) \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3[.\d]*\)/);
    },
  );

  it('a Python that cannot be run is an error value, not a throw', () => {
    const missing = readTorchBuild(join(tmp, 'no-such-python'));
    expect(isTorchBuild(missing)).toBe(false);
    expect((missing as { error: string }).error).toMatch(/could not be run/);
  });
});

/** An injected build: OpenBLAS with SkylakeX kernels unless overridden. */
function fakeBuild(over: { blas?: Partial<TorchBuild['blas']>; config?: Partial<TorchBuild['config']> } & Partial<Omit<TorchBuild, 'blas' | 'config'>> = {}): TorchBuild {
  const base: TorchBuild = {
    schema: 'lenet-bench/torch-build',
    torch: '1.13.1',
    python: '3.11.2',
    pythonExecutable: '/usr/bin/python3',
    blas: {
      kind: 'openblas',
      library: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
      source: 'dladdr(sgemm_)',
      note: null,
      openblas: {
        library: '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
        config: 'OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY SkylakeX MAX_THREADS=64',
        version: '0.3.21',
        threading: 'pthread',
        threads: 2,
        coreType: 'SkylakeX',
      },
    },
    blasObjects: [],
    config: { blasInfo: 'generic', lapackInfo: 'generic', useMkldnn: 'ON', useOpenmp: 'ON', torchVersion: '1.13.0', lines: [] },
    mkldnn: { available: true, version: '2.6.3' },
    cpuCapability: 'AVX512',
    cpuHasAvx512: true,
    threads: 2,
    interopThreads: 2,
    env: {},
    sgemm: { n: 512, reps: 5, bestSeconds: 0.0045, gflops: 60.1, threads: 2 },
  };
  const { blas, config, ...rest } = over;
  return { ...base, ...rest, blas: { ...base.blas, ...blas }, config: { ...base.config, ...config } };
}

describe('torchBuildWarning and describeTorchBuild (injected builds)', () => {
  it('OpenBLAS with its AVX-512 kernels: no warning; the header line names everything', () => {
    const b = fakeBuild();
    expect(torchBuildWarning(b)).toBeNull();
    expect(describeTorchBuild(b)).toBe(
      'PyTorch 1.13.1 (Python 3.11.2), BLAS OpenBLAS 0.3.21 pthread, SkylakeX kernels (/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so), ' +
        'oneDNN 2.6.3, CPU capability AVX512, 2 threads (OpenBLAS 2), sgemm 512: 60.1 GFLOP/s',
    );
  });

  it('MKL and BLIS: no warning', () => {
    expect(torchBuildWarning(fakeBuild({ blas: { kind: 'mkl', library: '/x/libtorch_cpu.so', openblas: null }, config: { blasInfo: 'mkl' } }))).toBeNull();
    expect(torchBuildWarning(fakeBuild({ blas: { kind: 'blis', library: '/x/libblis.so.4', openblas: null } }))).toBeNull();
    expect(describeTorchBuild(fakeBuild({ blas: { kind: 'mkl', library: '/x/libtorch_cpu.so', openblas: null }, threads: 1 }))).toMatch(/BLAS MKL \(\/x\/libtorch_cpu\.so\), oneDNN 2\.6\.3, CPU capability AVX512, 1 thread, /);
  });

  it('reference BLAS, and an unknown BLAS with BLAS_INFO=generic: one-line warning with the fix', () => {
    const ref = fakeBuild({ blas: { kind: 'reference', library: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0', openblas: null }, sgemm: { n: 512, reps: 5, bestSeconds: 0.06, gflops: 4.4, threads: 1 } });
    const w = torchBuildWarning(ref)!;
    expect(w).toMatch(/^warning: PyTorch runs on the generic reference BLAS \(\/usr\/lib\/x86_64-linux-gnu\/blas\/libblas\.so\.3\.11\.0\): the PyTorch column understates PyTorch/);
    expect(w).toMatch(/measured here 4\.4 GFLOP\/s at 512x512/);
    expect(w).toMatch(/fix: `apt-get install libopenblas0-pthread` \(Debian\/Ubuntu\), or use pip's torch wheel, which bundles MKL\/OpenBLAS$/);
    expect(w).not.toContain('\n');
    const unknown = fakeBuild({ blas: { kind: 'unknown', library: '/opt/x/libblas.so.3', openblas: null } });
    expect(torchBuildWarning(unknown)).toMatch(/an unidentified BLAS \(\/opt\/x\/libblas\.so\.3\) with BLAS_INFO=generic/);
    expect(torchBuildWarning(fakeBuild({ blas: { kind: 'unknown', library: null, openblas: null }, config: { blasInfo: 'mkl' } }))).toBeNull();
  });

  it('OpenBLAS on its generic Prescott kernels on an AVX-512 CPU: warning with OPENBLAS_CORETYPE', () => {
    const b = fakeBuild({ sgemm: { n: 512, reps: 5, bestSeconds: 0.03, gflops: 9.2, threads: 1 } });
    b.blas.openblas = { ...b.blas.openblas!, coreType: 'Prescott' };
    expect(torchBuildWarning(b)).toMatch(/did not recognise this CPU and runs its generic Prescott kernels .*OPENBLAS_CORETYPE=SkylakeX/);
    // An old CPU for which Prescott is the right choice: no warning.
    expect(torchBuildWarning({ ...b, cpuHasAvx512: false, cpuCapability: 'DEFAULT' })).toBeNull();
  });
});
