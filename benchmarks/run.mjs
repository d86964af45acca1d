#!/usr/bin/env node
// `pnpm bench` (turbo task "bench"): runs every *.bench.mjs suite in this folder in its own
// process (fair timing, one runtime per process), or only those named on the command line.
// Each suite prints a table and writes JSON into results/.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (suites.length === 0) {
  console.error(`no benchmark suites match ${wanted.join(', ') || '*'} in ${here}`);
  process.exit(2);
}
let failed = 0;
for (const suite of suites) {
  console.log(`\n=== ${suite} ===`);
  const r = spawnSync(process.execPath, [join(here, suite)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.error(`${suite} failed (exit ${r.status})`);
  }
}
process.exit(failed ? 1 : 0);
