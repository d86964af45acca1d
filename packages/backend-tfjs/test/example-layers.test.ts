// The README's "your own TF.js model" example, run as a user runs it (node, the built package):
// tf.layers trains on stock wasm once registerWasmConv2DBackpropFilter() is called.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');

it('examples/tfjs-layers-wasm.mjs trains tf.layers on wasm: three finite losses, then a prediction on wasm', () => {
  const r = spawnSync(process.execPath, [join(PKG, 'examples', 'tfjs-layers-wasm.mjs')], { cwd: PKG, encoding: 'utf8', timeout: 60_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const losses = [...r.stdout.matchAll(/^step \d: loss (\S+)$/gm)].map((m) => Number(m[1]));
  expect(losses).toHaveLength(3);
  expect(losses.every(Number.isFinite)).toBe(true);
  expect(r.stdout).toMatch(/logits of one image: 1,10, on wasm/);
}, 60_000);
