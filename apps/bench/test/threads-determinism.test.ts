// Every backend that trains on several threads in Node trains bit-identically for any thread
// count (fixed micro-chunks reduced in a fixed order: @lenet/parallel-node, and plain's own
// runner): `lenet-bench train --threads 1` and `--threads 2` save byte-identical weights. The
// single-threaded backends accept --threads and say that it does not apply to them.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeSafetensors, getPreset, initWeights } from '@lenet/model';
import { runCli, type CliResult } from './cli-process.js';

const dir = mkdtempSync(join(tmpdir(), 'lenet-threads-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const haveData = existsSync('/usr/share/datasets/fashion-mnist') || process.env.LENET_DATA_DIR !== undefined;
// 200 images, batches of 96: steps of 96, 96 and 8 samples, so full and partial micro-chunks.
const SMALL = ['--epochs', '1', '--limit', '200', '--batch-size', '96', '--seed', '3'];

function train(backend: string, threads: number): Promise<CliResult & { out: string }> {
  const out = join(dir, `${backend}-${threads}.safetensors`);
  return runCli(['train', '--backend', backend, '--threads', String(threads), '--out', out, ...SMALL], dir, {}, { timeoutMs: 240_000 }).then((r) => ({ ...r, out }));
}

const unavailable = (r: CliResult) => /not available|is not installed/.test(r.stderr);

describe('lenet-bench train: the same weights on 1 and 2 threads', () => {
  for (const backend of ['plain', 'plain-js', 'ort-node', 'ort-web', 'tfjs-wasm', 'tfjs-cpu']) {
    it(`${backend}: --threads 1 and --threads 2 save byte-identical weights`, async (ctx) => {
      if (!haveData) return ctx.skip('Fashion-MNIST is not installed (/usr/share/datasets/fashion-mnist or LENET_DATA_DIR)');
      const [one, two] = await Promise.all([train(backend, 1), train(backend, 2)]);
      if (unavailable(one)) return ctx.skip(`${backend} is not available here: ${one.stderr.trim().split('\n')[0]}`);
      expect(one.code, one.stderr).toBe(0);
      expect(two.code, two.stderr).toBe(0);
      const a = readFileSync(one.out);
      const b = readFileSync(two.out);
      expect(a.length).toBeGreaterThan(61_706 * 4);
      expect(a.equals(b), `${backend}: the weights after training on 1 and on 2 threads differ`).toBe(true);
      // Training must have moved every tensor from the seeded init (equal untrained files would prove nothing).
      const trained = decodeSafetensors(a, one.out).weights;
      for (const [name, init] of initWeights(getPreset('lenet5'), 3)) {
        expect(Buffer.from(trained.get(name)!.data.buffer).equals(Buffer.from(init.data.buffer)), `${backend}: ${name} is still the init`).toBe(false);
      }
    }, 600_000);
  }
});

describe('lenet-bench train: single-threaded backends say --threads does not apply', () => {
  for (const backend of ['tfjs-layers-wasm', 'jax-js']) {
    it(`${backend} --threads 2 trains on 1 thread and says so`, async (ctx) => {
      if (!haveData) return ctx.skip('Fashion-MNIST is not installed (/usr/share/datasets/fashion-mnist or LENET_DATA_DIR)');
      const r = await train(backend, 2);
      if (unavailable(r)) return ctx.skip(`${backend} is not available here: ${r.stderr.trim().split('\n')[0]}`);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`note: ${backend} trains on 1 thread; --threads 2 does not apply to it`);
    }, 600_000);
  }
});
