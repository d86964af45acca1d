// Property tests draw from a fixed seed so the suite is deterministic (a failure reproduces on
// the next run). FC_SEED=<n> picks another seed, FC_SEED=random a fresh one per run, to explore.
import fc from 'fast-check';

const seed = process.env.FC_SEED;
if (seed !== 'random') fc.configureGlobal({ seed: seed ? Number(seed) : 20261126 });
