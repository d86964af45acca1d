/**
 * @lenet/core's conformance suite (forward and one SGD step against the float64 reference,
 * learning a tiny set, bad input) on the TypeScript tier and both WebAssembly tiers,
 * single-threaded and with worker threads. Runs the built package (dist/): the worker script
 * and the .wasm ship there.
 */
import { describe, it } from 'vitest';
import { conformanceSuite, type Backend } from '@lenet/core';
import { plainJsBackend } from '../dist/index.js';
import { TIERS } from './tiers.js';

const cases: { label: string; backend: Backend; unavailable: string | null }[] = [
  { label: 'plain-js', backend: plainJsBackend, unavailable: null },
  ...TIERS.map((t) => ({ label: `plain [${t.tier}]`, backend: t.backend, unavailable: t.unavailable })),
];

for (const { label, backend, unavailable } of cases) {
  for (const threads of [1, 2]) {
    describe(`${label}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      for (const c of conformanceSuite(backend, { threads, optimizer: true })) {
        it(c.name, async (ctx) => {
          if (unavailable) ctx.skip(unavailable);
          await c.run();
        }, 60_000);
      }
    });
  }
}
