// The backend list and the optional tfjs-node backend (not installable on our machines).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { canTrain } from '@lenet/core';
import { getPreset, initWeights } from '@lenet/model';
import { backends, tfjsNodeBackend } from '../src/index.js';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('backends', () => {
  it('lists tfjs-cpu, tfjs-wasm, tfjs-node and the tf.layers rows, all able to train', () => {
    expect(backends.map((b) => b.name)).toEqual(['tfjs-cpu', 'tfjs-wasm', 'tfjs-node', 'tfjs-layers-cpu', 'tfjs-layers-wasm']);
    expect(backends.every((b) => canTrain(b))).toBe(true);
  });

  it('probed concurrently in one Node process (as `lenet-bench backends` does), cpu, wasm and both tf.layers rows are available', () => {
    // In a fresh node process on the built package: vitest's module loading changes the timing
    // enough to hide the race (a tf.setBackend issued during wasm's initialisation failed it).
    const script =
      "const { backends } = await import('@lenet/backend-tfjs');\n" +
      "const probed = backends.filter((b) => b.name !== 'tfjs-node');\n" +
      'const results = await Promise.all(probed.map(async (b) => { const ok = await b.available(); if (ok === true) await b.info(); return [b.name, ok]; }));\n' +
      'console.log(JSON.stringify(Object.fromEntries(results)));\n';
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: PKG, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ 'tfjs-cpu': true, 'tfjs-wasm': true, 'tfjs-layers-cpu': true, 'tfjs-layers-wasm': true });
  }, 60_000);

  it('tfjs-node reports why it is unavailable instead of throwing when the package is missing', async () => {
    let installed = true;
    try {
      await import('@tensorflow/tfjs-node' as string);
    } catch {
      installed = false;
    }
    const available = await tfjsNodeBackend.available();
    if (installed) {
      expect(available).toBe(true);
    } else {
      expect(available).toMatch(/@tensorflow\/tfjs-node is not installed/);
      const spec = getPreset('lenet5');
      await expect(tfjsNodeBackend.createSession(spec, initWeights(spec, 0))).rejects.toThrow(
        /tfjs-node is not available: @tensorflow\/tfjs-node is not installed/,
      );
    }
  });
});
