#!/usr/bin/env node
// The README's two commands: `npm start` (install everything, build, run the main job) and
// `npm test` (install, build, typecheck, run every package's tests, print one summary line).
// Works with only Node.js >= 20 and npm: pnpm is used from PATH, else through npx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv[2];
const extra = process.argv.slice(3);

function has(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.status === 0;
}

const pnpm = has('pnpm', ['--version']) ? ['pnpm'] : ['npx', '--yes', 'pnpm@10'];

function run(args, { allowFail = false } = {}) {
  const [cmd, ...rest] = [...pnpm, ...args];
  console.error(`\n> ${[cmd, ...rest].join(' ')}`);
  const r = spawnSync(cmd, rest, { cwd: root, stdio: 'inherit', env: process.env });
  if (r.error) {
    console.error(`could not run ${cmd}: ${r.error.message}`);
    process.exit(1);
  }
  if (r.status !== 0 && !allowFail) process.exit(r.status ?? 1);
  return r.status ?? 1;
}

/** Adds up every package's vitest JSON report into the closing line CI reads. */
function testSummary() {
  let passed = 0, failed = 0, skipped = 0, files = 0;
  const dirs = ['packages', 'apps'].flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(root, d, p)) : []));
  for (const dir of dirs) {
    const report = join(dir, 'test-artifacts', 'vitest.json');
    if (!existsSync(report)) continue;
    const r = JSON.parse(readFileSync(report, 'utf8'));
    files++;
    passed += r.numPassedTests ?? 0;
    failed += r.numFailedTests ?? 0;
    skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  }
  return { passed, failed, skipped, files };
}

run(['install', '--frozen-lockfile', '--prefer-offline']);
if (mode === 'start') {
  run(['turbo', 'run', 'build', '--output-logs=errors-only']);
  run(['lenet-bench', 'summary']);
  run(['lenet-bench', 'data']);
  run(['lenet-bench', 'backends']);
  run(['lenet-bench', 'train', '--backend', 'plain', '--epochs', '2', '--limit', '10000', ...extra]);
} else if (mode === 'test') {
  // Stale reports must not be counted.
  const status = run(['turbo', 'run', 'typecheck', 'test', '--concurrency=2', ...extra], { allowFail: true });
  const s = testSummary();
  console.log(`\ntest reports from ${s.files} packages`);
  console.log(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  process.exit(status !== 0 ? status : s.failed > 0 ? 1 : 0);
} else {
  console.error('usage: node scripts/quickstart.mjs start|test');
  process.exit(2);
}
