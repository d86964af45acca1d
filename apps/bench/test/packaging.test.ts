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

type Exports = Record<string, string | { types?: string; import?: string }>;

describe('pnpm pack', () => {
  it.each(readdirSync(packagesDir))('packages/%s packs with its entry points, types and README', (dir) => {
    const cwd = join(packagesDir, dir);
    const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8')) as { name: string; version: string; exports: Exports };
    const dest = join(out, dir);
    execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd, stdio: 'pipe' });
    const tarball = join(dest, readdirSync(dest)[0]!);
    const files = execFileSync('tar', ['tzf', tarball], { encoding: 'utf8' }).split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('README.md');
    for (const [subpath, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      expect(files, `${pkg.name} export ${subpath}`).toContain(target.import!.replace(/^\.\//, ''));
      expect(files, `${pkg.name} export ${subpath} types`).toContain(target.types!.replace(/^\.\//, ''));
    }
    // Runtime assets the code loads relative to import.meta.url.
    if (pkg.name === '@lenet/backend-plain') expect(files).toEqual(expect.arrayContaining(['dist/kernels.wasm', 'dist/worker.js']));
    const packed = JSON.parse(execFileSync('tar', ['xzf', tarball, '-O', 'package/package.json'], { encoding: 'utf8' }));
    expect(JSON.stringify(packed.dependencies ?? {})).not.toMatch(/workspace:/);
  });
});
