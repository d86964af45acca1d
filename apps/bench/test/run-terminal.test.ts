// What a person sees of `run`: the live display under a real pseudo-terminal (script(1)), the
// line-based output without one, the end-of-run verdict at 80 columns, and the first screen of
// report.html at 1400 and 390 px (screenshots in test-artifacts/, looked at by a person).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliResult } from './cli-process.js';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-terminal-'));
const artifacts = join(import.meta.dirname, '..', 'test-artifacts');
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Two fast backends, a few steps: training and inference both take a few seconds.
const TINY = ['--profile', 'smoke', '--limit', '1200', '--train-steps', '12', '--inference-seconds', '0.8', '--agreement-images', '40', '--no-peaks', '--no-torch'];
const hasScript = spawnSync('script', ['--version']).status === 0;
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `run` under script(1): a real pseudo-terminal 80 columns wide; returns everything it drew. */
function runInPty(args: string[]): Promise<{ code: number | null; out: string }> {
  const cmd = `stty cols 80 rows 40; exec ${q(process.execPath)} ${q(CLI)} ${args.map(q).join(' ')}`;
  return new Promise((resolve) => {
    const env: Record<string, string | undefined> = { ...process.env, INIT_CWD: tmp, COLUMNS: '80', TERM: 'xterm-256color' };
    delete env.CI; // vitest may set it; CI logs get the line-based output
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

/** The screen as drawn: carriage returns and cursor moves reduce to the last text of each row, good enough to read lines. */
const frames = (out: string) => out.replace(ANSI, '\n').split(/[\r\n]+/).map((l) => l.trimEnd()).filter(Boolean);

describe('run under a pseudo-terminal', () => {
  let pty: { code: number | null; out: string };
  beforeAll(async () => {
    if (!hasScript) return;
    pty = await runInPty(['run', '--backends', 'plain,ort-node', ...TINY, '--out', 'tty']);
  }, 240_000);

  it('shows a live display with the phase, the cell, the round and an ETA, during training and inference', (ctx) => {
    if (!hasScript) ctx.skip('script(1) from util-linux is not installed: no pseudo-terminal to drive run in');
    expect(pty.code, pty.out.slice(-2000)).toBe(0);
    const lines = frames(pty.out);
    expect(pty.out).toMatch(/\x1b\[\?25l/); // cli-progress took the terminal (cursor hidden)
    const training = lines.filter((l) => /^training · run ETA /.test(l));
    const inference = lines.filter((l) => /^inference · run ETA /.test(l));
    // An ETA in seconds once every cell has a measured window ("ETA …" before).
    expect(training.filter((l) => /ETA \d/.test(l)).length, lines.join('\n')).toBeGreaterThan(0);
    expect(inference.filter((l) => /ETA \d/.test(l)).length, lines.join('\n')).toBeGreaterThan(0);
    expect(training.some((l) => / · round \d+ · now (plain|ort-node) /.test(l))).toBe(true);
    expect(inference.some((l) => / · round \d+\/\d+ · now (plain|ort-node) batch (1|256) /.test(l))).toBe(true);
    // Per-cell rows: training progress in epochs and img/s, then inference windows.
    expect(lines.some((l) => /^ {2}plain +\S+ \d+\.\d\d epochs? · [\d,]+ img\/s/.test(l))).toBe(true);
    expect(lines.some((l) => /^ {2}ort-node +\S+ \d+\/\d+ windows/.test(l))).toBe(true);
  });

  it('ends with the verdict fitted to 80 columns: the table, its sentences, no empty columns', (ctx) => {
    if (!hasScript) ctx.skip('script(1) from util-linux is not installed: no pseudo-terminal to drive run in');
    // From the verdict to the report's paths (paths are as long as they are).
    const out = pty.out.replace(ANSI, '');
    const tail = out.slice(out.lastIndexOf('Verdict'), out.lastIndexOf('report ('));
    const lines = tail.split(/\r?\n/);
    for (const l of lines) expect([...l].length, l).toBeLessThanOrEqual(80);
    const header = lines[1]!;
    expect(header).toMatch(/^backend +acc +train img\/s/);
    expect(header).not.toMatch(/torch|×|\[95% CI\]/); // no PyTorch ran; no intervals at this width
    expect(lines.some((l) => /^plain +\d/.test(l))).toBe(true);
    expect(lines.some((l) => /^ort-node +\d/.test(l))).toBe(true);
    expect(tail).toMatch(/^- Fastest training: (plain|ort-node) /m);
    expect(tail).toMatch(/^- Lowest batch-1 latency: /m);
  });
});

describe('run without a terminal', () => {
  let r: CliResult;
  beforeAll(async () => {
    r = await runCli(['run', '--backends', 'plain', ...TINY, '--out', 'pipe'], tmp, { CI: '', COLUMNS: '' });
  }, 240_000);

  it('stays line-based: no escape codes, no carriage returns, one line per event', () => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr + r.stdout).not.toMatch(/\x1b|\r/);
    expect(r.stderr).toMatch(/^training plain in windows of ~[\d.]+ s, taking turns$/m);
    expect(r.stderr).toMatch(/^inference: \d+ rounds of 2 windows/m);
    expect(r.stderr).toMatch(/^plain: train [\d,]+ img\/s .*test acc [\d.]+%/m);
    expect(r.stdout).toMatch(/^Verdict\nbackend /m);
  });
});

describe('report.html first screen (screenshots)', () => {
  it('at 1400 and 390 px: the verdict is on the first screen, no horizontal overflow at 390', async (ctx) => {
    if (!existsSync('/usr/bin/chromium')) ctx.skip('/usr/bin/chromium is not installed (Debian package chromium): the screenshots need it');
    // The two-backend run when script(1) ran it, else the one-backend one.
    const html = [join(tmp, 'tty', 'report.html'), join(tmp, 'pipe', 'report.html')].find(existsSync)!;
    expect(html).toBeDefined();
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      mkdirSync(artifacts, { recursive: true });
      for (const [width, height] of [[1400, 900], [390, 844]] as const) {
        const page = await browser.newPage();
        await page.setViewportSize({ width, height }); // a persistent context ignores newPage's viewport
        await page.goto(`file://${html}`);
        const verdict = await page.locator('#verdict table').boundingBox();
        expect(verdict, `${width}px`).not.toBeNull();
        expect(verdict!.y, `${width}px: the verdict table starts on the first screen`).toBeLessThan(height - 40);
        const first = await page.locator('#verdict li').first().boundingBox();
        expect(first!.y + first!.height, `${width}px: the first sentence is on the first screen`).toBeLessThan(height / 2);
        expect(await page.locator('#verdict li').count()).toBeGreaterThanOrEqual(3);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        expect(overflow, `${width}px: the page scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
        const shot = join(artifacts, `report-${width}.png`);
        await page.screenshot({ path: shot });
        expect(statSync(shot).size).toBeGreaterThan(20_000); // a blank page compresses to a few KB
        await page.close();
      }
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
