#!/usr/bin/env node
// `pnpm bench` (turbo task "bench"): runs every *.bench.mjs suite in this folder in its own
// process (fair timing, one runtime per process), or only those named on the command line.
// Each suite prints a table and writes results/<suite>.json; a suite that exits non-zero or does
// not (re)write its JSON counts as failed. Flags (e.g. --quick) are passed on to every suite.
//   node run.mjs [suite ...] [--quick]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flags = args.filter((a) => a.startsWith('--'));
const wanted = args.filter((a) => !a.startsWith('--'));
const suites = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)))
  .sort();
if (suites.length === 0) {
  console.error(`no benchmark suites match ${wanted.join(', ') || '*'} in ${here}`);
  process.exit(2);
}
const failed = [];
const written = [];
for (const suite of suites) {
  console.log(`\n=== ${suite} ===`);
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(here, suite), ...flags], { stdio: 'inherit' });
  const result = join(here, 'results', suite.replace(/\.bench\.mjs$/, '.json'));
  if (r.status !== 0) {
    failed.push(`${suite} (exit ${r.status ?? r.signal})`);
    continue;
  }
  if (!existsSync(result) || statSync(result).mtimeMs < started - 1000) {
    failed.push(`${suite} (did not write ${result})`);
    continue;
  }
  try {
    JSON.parse(readFileSync(result, 'utf8'));
    written.push(result);
  } catch (err) {
    failed.push(`${suite} (${result} is not valid JSON: ${err.message})`);
  }
}
console.log(`\n${suites.length - failed.length}/${suites.length} suites ok; results: ${written.map((w) => w.slice(here.length + 1)).join(', ') || 'none'}`);
if (failed.length) console.error(`failed: ${failed.join('; ')}`);
process.exit(failed.length ? 1 : 0);
