import { describe, it } from 'vitest';
import { conformanceSuite } from '@lenet/core';
import { ortNodeBackend, ortWebBackend } from '../src/index.js';

// The shared suite: forward vs reference, one SGD step vs the reference step (both backends
// have createTrainingSession, so the training cases run), learning a tiny set, determinism, weights
// round-trip, input rejection, dispose.
describe('ort-node conformance', () => {
  for (const c of conformanceSuite(ortNodeBackend, { optimizer: true })) it(c.name, c.run, 60_000);
});

describe('ort-web conformance', () => {
  for (const c of conformanceSuite(ortWebBackend, { optimizer: true })) it(c.name, c.run, 60_000);
});
