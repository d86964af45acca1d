// README code blocks cannot rot: every ```js/```ts block in packages/*/README.md is an
// examples/ file shown verbatim (scripts/readme-examples.mjs rewrites them; this checks), and
// test/outside-user.test.ts runs every example against the packed, npm-installed packages.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('README examples', () => {
  it('every README code block is an examples/ file, verbatim, and every example is shown', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'readme-examples.mjs'), '--check'], { encoding: 'utf8' });
    expect(r.stderr, 'run `node scripts/readme-examples.mjs` to update the READMEs').toBe('');
    expect(r.status).toBe(0);
  });
});
