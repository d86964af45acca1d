// Output fitted to the terminal: word-wrapping with a hanging indent (src/terminal.ts), and
// `lenet-bench backends` at 80 columns through the built CLI (COLUMNS=80; a TTY's own width
// takes precedence when stdout is one).
import { describe, expect, it } from 'vitest';
import { hangingWrap, tableWrappingLast } from '../src/terminal.js';
import { runCli } from './cli-process.js';

const words = (s: string) => s.split(/\s+/).filter(Boolean);

describe('hangingWrap / tableWrappingLast', () => {
  const text = 'onnxruntime-web 1.30.0 (wasm EP, SIMD, 2 threads; training data-parallel on 2 worker threads, 1 wasm thread each)';

  it('wraps at word boundaries within the width, indenting the continuation lines', () => {
    const lines = hangingWrap(text, 40, 6, '  ort ');
    expect(lines.length).toBeGreaterThan(2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines[0]!.startsWith('  ort onnxruntime-web')).toBe(true);
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {6}\S/);
    expect(words(lines.join(' ')).slice(1)).toEqual(words(text)); // no word split or lost
  });

  it('without a width (piped output) keeps one line', () => {
    expect(hangingWrap(text, null, 6, 'x ')).toEqual([`x ${text}`]);
  });

  it('breaks inside a word only when it is longer than a line (a long path)', () => {
    const path = '/work/' + 'a'.repeat(70) + '/backends.js';
    const lines = hangingWrap(`missing ${path}`, 40, 2);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(40);
    expect(lines.map((l) => l.trim()).join('').replace(/\s/g, '')).toBe(`missing${path}`);
  });

  it('a table whose last column wraps under itself', () => {
    const lines = tableWrappingLast(['name', 'description'], [['a', text], ['bb', 'short']], 50);
    expect(lines[0]).toBe('name  description');
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(50);
    const cont = lines.slice(3, lines.findIndex((l) => l.startsWith('bb')));
    for (const l of cont) expect(l).toMatch(/^ {6}\S/);
    expect(lines.at(-1)).toBe('bb    short');
  });
});

describe('lenet-bench backends at 80 columns', () => {
  it('every line fits, no word is split, and every description and runtime is complete', async () => {
    const narrow = await runCli(['backends'], process.cwd(), { COLUMNS: '80' }, { timeoutMs: 120_000 });
    expect(narrow.code, narrow.stderr).toBe(0);
    const lines = narrow.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    // The same words as the unwrapped output, in the same order (COLUMNS unset: one row per line).
    const wide = await runCli(['backends'], process.cwd(), { COLUMNS: '' }, { timeoutMs: 120_000 });
    const dashless = (s: string) => words(s).filter((w) => !/^-+$/.test(w));
    expect(dashless(narrow.stdout)).toEqual(dashless(wide.stdout));
    expect(wide.stdout.split('\n').some((l) => l.length > 80)).toBe(true); // it did need wrapping
  });
});
