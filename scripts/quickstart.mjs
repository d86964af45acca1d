#!/usr/bin/env node
// The README's two commands: `npm start` (install everything, build, run the main job) and
// `npm test` (install, build, typecheck, run every package's tests, print one summary line).
// Works with only Node.js >= 20 and npm: pnpm is used from PATH, else through npx.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
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
  // LENET_NODE_VERSION is in turbo.json's globalEnv: a build or test cached on another Node
  // version is not reused (CI runs the tests on two Nodes in one checkout).
  const r = spawnSync(cmd, rest, { cwd: root, stdio: 'inherit', env: { ...process.env, LENET_NODE_VERSION: process.version } });
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

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const canApt = isRoot && has('apt-get', ['--version']);
let aptUpdated = false;

/** apt-get install as root; a failure is a warning (the caller says what happens without the packages). */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    aptUpdated = true;
    spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  }
  const r = spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env });
  if (r.status !== 0) console.error(`warning: apt-get install ${packages.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}); continuing without`);
  return r.status === 0;
}

/**
 * Fashion-MNIST comes from Debian's dataset-fashion-mnist package when the machine has apt and
 * we are root (no download needed); otherwise @lenet/datasets finds it elsewhere or downloads it.
 */
function ensureFashionMnist() {
  if (existsSync('/usr/share/datasets/fashion-mnist')) return;
  if (existsSync(join(root, 'datasets', 'fashion-mnist', 'train-images-idx3-ubyte.gz')) || process.env.LENET_DATA_DIR) return;
  if (canApt) {
    console.error('\n> apt-get install dataset-fashion-mnist (Fashion-MNIST, original IDX files)');
    if (aptInstall(['dataset-fashion-mnist'])) return;
  }
  console.error('note: Fashion-MNIST is not installed; lenet-bench will download it into datasets/fashion-mnist/ ' +
    '(or install Debian/Ubuntu package dataset-fashion-mnist, or pass --data-dir)');
}

/** True when libblas.so.3 is missing or resolves to the generic reference BLAS (Debian's libblas3). */
function referenceBlasOnly() {
  for (const dir of ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib']) {
    const lib = join(dir, 'libblas.so.3');
    if (existsSync(lib)) return /\/blas\/libblas\.so\.3/.test(realpathSync(lib));
  }
  return true;
}

/**
 * The PyTorch reference column at full strength: Debian's python3-torch with OpenBLAS (without
 * libopenblas0-pthread torch runs on the reference BLAS, ~15x slower sgemm). Root + apt: installed
 * (LENET_NO_TORCH=1 opts out); otherwise one line on how to get it. Never fatal: without torch the
 * benchmark runs the JS backends and says the reference was skipped.
 */
function ensureTorch() {
  if (process.env.LENET_NO_TORCH === '1') return;
  const custom = process.env.LENET_PYTHON; // the user's own Python (e.g. a pip torch): not ours to apt-install into
  const python = custom || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const hasTorch = has(python, ['-c', 'import torch']);
  if (custom && hasTorch) return;
  const need = [...(hasTorch ? [] : ['python3-torch']), ...(referenceBlasOnly() ? ['libopenblas0-pthread'] : [])];
  if (!need.length) return;
  if (canApt && !custom) {
    console.error(`\n> apt-get install ${need.join(' ')} (the PyTorch reference, with OpenBLAS; LENET_NO_TORCH=1 skips this)`);
    if (aptInstall(need)) return;
  }
  console.error('note: for the PyTorch reference column at full strength: Debian/Ubuntu `sudo apt-get install python3-torch libopenblas0-pthread`, ' +
    'or `pip install torch` (the wheel bundles MKL/OpenBLAS) and LENET_PYTHON=/path/to/python; LENET_NO_TORCH=1 silences this');
}

run(['install', '--frozen-lockfile', '--prefer-offline']);
ensureFashionMnist();
if (mode === 'start') {
  ensureTorch();
  run(['turbo', 'run', 'build', '--output-logs=errors-only']);
  // The main job: the default cross-backend benchmark (quick profile, every Node backend).
  run(['lenet-bench', 'run', ...extra]);
} else if (mode === 'test') {
  // Stale reports must not be counted: remove them; turbo restores a cached task's report.
  for (const d of ['packages', 'apps']) {
    if (!existsSync(join(root, d))) continue;
    for (const p of readdirSync(join(root, d))) rmSync(join(root, d, p, 'test-artifacts', 'vitest.json'), { force: true });
  }
  const status = run(['turbo', 'run', 'typecheck', 'test', '--concurrency=2', '--continue', ...extra], { allowFail: true });
  const s = testSummary();
  console.log(`\ntest reports from ${s.files} packages`);
  console.log(`${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  process.exit(status !== 0 ? status : s.failed > 0 ? 1 : 0);
} else {
  console.error('usage: node scripts/quickstart.mjs start|test');
  process.exit(2);
}
