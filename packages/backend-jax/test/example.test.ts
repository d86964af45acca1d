// The README example, run as a user runs it (node, the built package).
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const PKG = join(dirname(fileURLToPath(import.meta.url)), '..');

it('examples/jax.mjs trains one step and predicts on jax-js wasm', () => {
  const r = spawnSync(process.execPath, [join(PKG, 'examples', 'jax.mjs')], { cwd: PKG, encoding: 'utf8', timeout: 90_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const loss = Number(/^jax-js: loss (\S+), 40 logits$/m.exec(r.stdout)?.[1]);
  expect(Number.isFinite(loss) && loss > 0).toBe(true);
  expect(r.stdout).toContain('jax-js 0.1.25 wasm (1 thread)');
}, 90_000);
