/**
 * @lenet/core's conformance suite on both tiers, single-threaded and with worker threads.
 * Runs the built package (dist/): the worker script and the .wasm ship there.
 */
import { describe, it } from 'vitest';
import { conformanceSuite } from '@lenet/core';
import { plainBackend, plainJsBackend } from '../dist/index.js';

for (const backend of [plainJsBackend, plainBackend]) {
  for (const threads of [1, 2]) {
    describe(`${backend.name}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
      for (const c of conformanceSuite(backend, { threads })) it(c.name, c.run, 60_000);
    });
  }
}
