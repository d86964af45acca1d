// README code blocks are real files: every ```js / ```ts block in packages/*/README.md follows a
// marker line `<!-- example: examples/<file> -->` and holds that file verbatim.
//   node scripts/readme-examples.mjs          rewrite the blocks from the files
//   node scripts/readme-examples.mjs --check  exit 1 listing blocks that differ or are unmarked
// apps/bench/test/readme-examples.test.ts runs the check and the example files themselves.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MARKER = /^<!-- example: (\S+) -->$/;
const CODE_LANGS = new Set(['js', 'mjs', 'javascript', 'ts', 'typescript']);

/** Parses a README into its fenced blocks, each with the marker line before it (if any). */
export function readmeBlocks(text) {
  const lines = text.split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    const marker = i > 0 ? MARKER.exec(lines[i - 1]) : null;
    blocks.push({ lang: open[1], start: i, end, body: lines.slice(i + 1, end).join('\n'), file: marker ? marker[1] : null });
    i = end;
  }
  return blocks;
}

export function isCode(lang) {
  return CODE_LANGS.has(lang);
}

/** Returns [problems, rewritten text] for one package folder. */
export function syncReadme(pkgDir) {
  const path = join(pkgDir, 'README.md');
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const problems = [];
  const blocks = readmeBlocks(text);
  for (const b of [...blocks].reverse()) {
    if (b.file === null) {
      if (isCode(b.lang)) problems.push(`${path}:${b.start + 1}: \`\`\`${b.lang} block is not an example file (add <!-- example: examples/… --> before it)`);
      continue;
    }
    const file = join(pkgDir, b.file);
    if (!existsSync(file)) {
      problems.push(`${path}:${b.start + 1}: ${b.file} does not exist`);
      continue;
    }
    const want = readFileSync(file, 'utf8').replace(/\n$/, '');
    if (want !== b.body) {
      problems.push(`${path}:${b.start + 1}: block differs from ${b.file}`);
      lines.splice(b.start + 1, b.end - b.start - 1, ...want.split('\n'));
    }
  }
  const examplesDir = join(pkgDir, 'examples');
  if (existsSync(examplesDir)) {
    const shown = new Set(blocks.map((b) => b.file).filter(Boolean));
    for (const f of readdirSync(examplesDir)) {
      if (!shown.has(`examples/${f}`)) problems.push(`${path}: examples/${f} is not shown in the README`);
    }
  }
  return [problems, lines.join('\n')];
}

export function packageDirs() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .map((d) => join(dir, d))
    .filter((d) => existsSync(join(d, 'package.json')));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let failed = false;
  for (const pkg of packageDirs()) {
    const [problems, text] = syncReadme(pkg);
    if (problems.length === 0) continue;
    if (check) {
      failed = true;
      for (const p of problems) console.error(p);
    } else {
      writeFileSync(join(pkg, 'README.md'), text);
      for (const p of problems) if (!p.includes('differs')) console.error(p);
    }
  }
  if (failed) process.exit(1);
}
