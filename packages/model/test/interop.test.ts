/**
 * Cross-language checks against Python. They run when the Python modules are importable and
 * are skipped (with the reason in the test name) otherwise:
 * - numpy: test/python/init_reference.py re-implements initWeights from its documented
 *   procedure; the weights must agree bit for bit (platform/language independence).
 * - safetensors.torch (Debian python3-safetensors + python3-torch): PyTorch loads files we
 *   write, and we load files PyTorch writes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PRESET_NAMES, SafetensorsError, getPreset, initWeights, lenetVariant, paramInfos } from '../src/index.js';
import type { ModelSpec, Tensor } from '../src/index.js';
import { loadWeightsFile, saveWeightsFile } from '../src/node.js';

const here = dirname(fileURLToPath(import.meta.url));
const PYTHON = process.env.LENET_PYTHON ?? '/usr/bin/python3';

function canImport(module: string): { ok: boolean; why: string } {
  const r = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, why: `${PYTHON} not runnable (${r.error.message})` };
  if (r.status !== 0) return { ok: false, why: `${PYTHON} cannot import ${module}: ${r.stderr.trim().split('\n').pop()}` };
  return { ok: true, why: '' };
}

function runPython(script: string, args: string[]): unknown {
  const r = spawnSync(PYTHON, [join(here, 'python', script), ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.error || r.status !== 0) throw new Error(`${script} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
  return JSON.parse(r.stdout);
}

function sha256(t: Tensor): string {
  return createHash('sha256').update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)).digest('hex');
}

function sum(t: Tensor): number {
  let s = 0;
  for (const v of t.data) s += v;
  return s;
}

const numpy = canImport('numpy');
const torchSafetensors = canImport('safetensors.torch');
const skipped = (name: string, check: { ok: boolean; why: string }): string => (check.ok ? name : `${name} — SKIPPED: ${check.why}`);

const dir = mkdtempSync(join(tmpdir(), 'lenet-interop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('initWeights vs an independent numpy implementation of the documented procedure', () => {
  const cases: [string, ModelSpec, number][] = [
    ...PRESET_NAMES.map((name): [string, ModelSpec, number] => [name, getPreset(name), 0]),
    ['lenet5 seed 4294967295', getPreset('lenet5'), 0xffff_ffff],
    ['3-block variant seed 42', lenetVariant({ convChannels: [8, 16, 32], kernelSize: 3, padding: 1, denseUnits: [64] }), 42],
  ];
  it.skipIf(!numpy.ok).each(cases)(skipped('%s agrees bit for bit', numpy), (_name, spec, seed) => {
    const params = paramInfos(spec).map((p) => [p.name, p.shape, p.kind]);
    const expected = runPython('init_reference.py', [String(seed), JSON.stringify(params)]) as Record<string, string>;
    const weights = initWeights(spec, seed);
    for (const [name, t] of weights) expect(sha256(t), name).toBe(expected[name]);
  });
});

describe('Python safetensors / PyTorch interop', () => {
  it.skipIf(!torchSafetensors.ok)(skipped('PyTorch loads a file we wrote: same names, shapes, bits, metadata', torchSafetensors), async () => {
    const spec = getPreset('lenet5');
    const weights = initWeights(spec, 11);
    const path = join(dir, 'ours.safetensors');
    await saveWeightsFile(path, weights, { model: 'lenet5', seed: '11' });
    const seen = runPython('safetensors_interop.py', ['read', path]) as {
      metadata: Record<string, string>;
      tensors: Record<string, { dtype: string; shape: number[]; sha256: string; sum: number }>;
    };
    expect(seen.metadata).toEqual({ model: 'lenet5', seed: '11' });
    expect(Object.keys(seen.tensors).sort()).toEqual([...weights.keys()].sort());
    for (const [name, t] of weights) {
      const py = seen.tensors[name];
      expect(py.dtype, name).toBe('float32');
      expect(py.shape, name).toEqual(t.shape);
      expect(py.sha256, name).toBe(sha256(t));
      expect(py.sum, name).toBeCloseTo(sum(t), 9);
    }
  });

  it.skipIf(!torchSafetensors.ok)(skipped('we load files PyTorch wrote, and reject its F16 file naming the dtype', torchSafetensors), async () => {
    const written = runPython('safetensors_interop.py', ['write', dir]) as {
      metadata: Record<string, string>;
      tensors: Record<string, { shape: number[]; sha256: string; sum: number }>;
    };
    const { weights, metadata } = await loadWeightsFile(join(dir, 'py.safetensors'));
    expect(metadata).toEqual(written.metadata);
    expect([...weights.keys()].sort()).toEqual(Object.keys(written.tensors).sort());
    for (const [name, py] of Object.entries(written.tensors)) {
      const t = weights.get(name)!;
      expect(t.shape, name).toEqual(py.shape);
      expect(sha256(t), name).toBe(py.sha256);
      expect(sum(t), name).toBeCloseTo(py.sum, 9);
    }
    const f16 = join(dir, 'py_f16.safetensors');
    const error = await loadWeightsFile(f16).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toMatch(new RegExp(`^${f16}: invalid safetensors file: tensor "half": dtype "F16" is not supported`));
  });
});

if (!numpy.ok || !torchSafetensors.ok) {
  // Make the skip reason visible in the run log, not only in the test names.
  console.warn(`[interop] skipped: ${[numpy, torchSafetensors].filter((c) => !c.ok).map((c) => c.why).join('; ')}`);
}
