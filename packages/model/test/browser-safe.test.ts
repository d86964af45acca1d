import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../src');

/** Every module specifier imported (statically or dynamically) by the files reachable from entry. */
async function importGraph(entry: string): Promise<{ files: string[]; external: string[] }> {
  const seen = new Set<string>();
  const external = new Set<string>();
  const queue = [join(srcDir, entry)];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      else external.add(spec);
    }
  }
  return { files: [...seen], external: [...external] };
}

describe('entry "." is browser-safe', () => {
  it('imports nothing from Node, only pure-rand', async () => {
    const { files, external } = await importGraph('index.ts');
    expect(files.length).toBeGreaterThan(5);
    expect(files.some((f) => f.endsWith('node.ts'))).toBe(false);
    for (const spec of external) expect(spec).toMatch(/^pure-rand\//);
  });

  it('uses no Node globals in the browser-safe sources', async () => {
    const { files } = await importGraph('index.ts');
    for (const file of files) {
      const code = (await readFile(file, 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, file).not.toMatch(/\b(Buffer|process|require|__dirname)\b/);
    }
  });

  it('the "./node" entry is the one that uses node: modules', async () => {
    const { external } = await importGraph('node.ts');
    expect(external.some((s) => s.startsWith('node:'))).toBe(true);
  });
});
