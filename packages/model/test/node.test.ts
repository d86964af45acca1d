import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SafetensorsError, SpecError, WeightsError, encodeSafetensors, getPreset, initWeights, lenetVariant, paramInfos } from '../src/index.js';
import { expectSameBytes, expectSameTensor } from './helpers.js';
import { loadSpecFile, loadWeightsFile, resolveModel, saveWeightsFile } from '../src/node.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'lenet-model-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spec = getPreset('lenet5');

describe('saveWeightsFile / loadWeightsFile', () => {
  it('round-trips weights and metadata through a file, leaving no temp files', async () => {
    const path = join(dir, 'sub', 'dir', 'w.safetensors');
    const weights = initWeights(spec, 2);
    await saveWeightsFile(path, weights, { spec: 'lenet5', seed: '2' });
    expect(await readdir(join(dir, 'sub', 'dir'))).toEqual(['w.safetensors']);
    const bytes = await readFile(path);
    expectSameBytes(new Uint8Array(bytes), encodeSafetensors(weights, { spec: 'lenet5', seed: '2' }));
    const loaded = await loadWeightsFile(path, spec);
    expect(loaded.metadata).toEqual({ spec: 'lenet5', seed: '2' });
    expect([...loaded.weights.keys()]).toEqual(paramInfos(spec).map((p) => p.name));
    for (const [name, t] of weights) expectSameTensor(loaded.weights.get(name), t, name);
  });

  it('replaces an existing file', async () => {
    const path = join(dir, 'replace.safetensors');
    await saveWeightsFile(path, initWeights(spec, 1));
    await saveWeightsFile(path, initWeights(spec, 2), { v: '2' });
    expect((await loadWeightsFile(path)).metadata).toEqual({ v: '2' });
  });

  it('reorders tensors stored in another order into canonical order when given a spec', async () => {
    const weights = initWeights(spec, 3);
    const path = join(dir, 'sorted.safetensors');
    await saveWeightsFile(path, new Map([...weights].sort(([a], [b]) => (a < b ? -1 : 1))));
    expect([...(await loadWeightsFile(path)).weights.keys()][0]).toBe('conv1.bias');
    expect([...(await loadWeightsFile(path, spec)).weights.keys()]).toEqual([...weights.keys()]);
  });

  it('rejects weights that do not match the spec, naming the file and parameter', async () => {
    const missing = initWeights(spec, 0);
    missing.delete('fc3.bias');
    const path = join(dir, 'missing.safetensors');
    await saveWeightsFile(path, missing);
    await expect(loadWeightsFile(path, spec)).rejects.toThrow(new RegExp(`^${path}: weights do not match model "lenet5": missing parameter fc3\\.bias \\[10\\]`));
    await expect(loadWeightsFile(path)).resolves.toBeDefined(); // without a spec it is a valid file

    const extra = initWeights(spec, 0);
    extra.set('fc4.weight', { shape: [2, 2], data: new Float32Array(4) });
    const extraPath = join(dir, 'extra.safetensors');
    await saveWeightsFile(extraPath, extra);
    await expect(loadWeightsFile(extraPath, spec)).rejects.toThrow(/extra\.safetensors: .*unexpected parameter "fc4\.weight"/);

    const other = join(dir, 'wide.safetensors');
    await saveWeightsFile(other, initWeights(lenetVariant({ convChannels: [8, 16] }), 0));
    const error = await loadWeightsFile(other, spec).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WeightsError);
    expect((error as WeightsError).message).toMatch(/"conv1\.weight": expected shape \[6,1,5,5\], got \[8,1,5,5\]/);
    expect((error as WeightsError).source).toBe(other);
  });

  it('names the file for malformed and missing files', async () => {
    const path = join(dir, 'bad.safetensors');
    await writeFile(path, Buffer.from('not a safetensors file at all'));
    const error = await loadWeightsFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SafetensorsError);
    expect((error as Error).message).toContain(`${path}: invalid safetensors file: header length`);
    await expect(loadWeightsFile(join(dir, 'nope.safetensors'))).rejects.toThrow(/nope\.safetensors: cannot read weights file \(file not found\)/);
  });

  it('fails cleanly (no temp file left) when the target cannot be written', async () => {
    const target = join(dir, 'is-a-dir');
    await saveWeightsFile(join(target, 'x.safetensors'), initWeights(spec, 0)); // creates the directory
    await expect(saveWeightsFile(target, initWeights(spec, 0))).rejects.toThrow(WeightsError);
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

describe('loadSpecFile / resolveModel', () => {
  it('loads and validates a JSON spec', async () => {
    const path = join(dir, 'wide.json');
    const wide = lenetVariant({ name: 'wide', convChannels: [16, 32] });
    await writeFile(path, JSON.stringify(wide, null, 2));
    expect(await loadSpecFile(path)).toEqual(wide);
    expect(await resolveModel(path)).toEqual(wide);
  });

  it('names the file for JSON syntax errors, invalid specs and missing files', async () => {
    const syntax = join(dir, 'syntax.json');
    await writeFile(syntax, '{"name": "x",');
    const error = await loadSpecFile(syntax).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpecError);
    expect((error as SpecError).message).toMatch(new RegExp(`^${syntax}: model spec is not valid JSON`));
    expect((error as SpecError).source).toBe(syntax);

    const invalid = join(dir, 'invalid.json');
    const bad = getPreset('lenet5');
    bad.layers.splice(6, 1);
    await writeFile(invalid, JSON.stringify(bad));
    await expect(loadSpecFile(invalid)).rejects.toThrow(new RegExp(`^${invalid}: invalid model spec: layer 6 \\(dense "fc1"\\)`));
    await expect(resolveModel(join(dir, 'absent.json'))).rejects.toThrow(/absent\.json: cannot read model spec file \(file not found\)/);
  });

  it('resolves preset names and rejects unknown names, listing presets', async () => {
    expect(await resolveModel('lenet5')).toEqual(getPreset('lenet5'));
    expect(await resolveModel('lenet5-modern')).toEqual(getPreset('lenet5-modern'));
    await expect(resolveModel('lenet7')).rejects.toThrow(SpecError);
    await expect(resolveModel('lenet7')).rejects.toThrow(/Unknown model "lenet7": expected a preset \(lenet5, lenet5-modern\) or a path to a model spec \.json file/);
  });
});
