// Issue 13 ("Hardening"): one regression test per defect, through the built CLI (dist/cli.js)
// with tiny budgets. Every one of these failed (or hung) before the fix.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, getPreset, initWeights } from '@lenet/model';
import type { Report } from '../src/run/types.js';
import { expectOneLineError, runCli, type CliResult } from './cli-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-harden-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const DEBIAN = '/usr/share/datasets/fashion-mnist';
const TINY = ['--profile', 'smoke', '--limit', '300', '--train-steps', '2', '--inference-seconds', '0.2', '--agreement-images', '20', '--no-torch'];

type Result = CliResult;

const run = (args: string[], env: Record<string, string> = {}, timeoutMs = 120_000): Promise<Result> => runCli(args, tmp, env, { timeoutMs });

const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;

/** A Fashion-MNIST folder linking to the Debian files, with the test labels tampered with. */
function corruptDataDir(name: string): { dir: string; bad: string; sha: string; expected: string } {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  for (const f of ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte']) symlinkSync(join(DEBIAN, `${f}.gz`), join(dir, `${f}.gz`));
  const raw = gunzipSync(readFileSync(join(DEBIAN, 't10k-labels-idx1-ubyte.gz')));
  const expected = createHash('sha256').update(raw).digest('hex');
  raw[100] = (raw[100]! + 1) % 10;
  writeFileSync(join(dir, 't10k-labels-idx1-ubyte.gz'), gzipSync(raw));
  return { dir, bad: join(dir, 't10k-labels-idx1-ubyte.gz'), sha: createHash('sha256').update(raw).digest('hex'), expected };
}

describe('1. output checks before any work; a second Ctrl-C or SIGTERM always exits', () => {
  it.each([
    [['run', '--backends', 'plain', '--limit', '300', '--out', '/proc/x']],
    [['reproduce', 'd2l', '--out', '/proc/x']],
    [['run', '--backends', 'plain', '--limit', '300', '--out', '/sys/lenet']],
  ])('%j fails at once (it spun forever in mkdir)', async (args) => {
    const r = await run(args, {}, 30_000);
    expect(r.signal).toBeNull(); // not killed by the timeout
    expectOneLineError(r, 2, /--out \/(proc|sys)\/\S+\): expected a writable folder on a regular filesystem, got a path under \/(proc|sys)/);
  });

  /** A process using the signal module with a graceful stop that never finishes. */
  function stuck() {
    const mod = join(here, '..', 'dist', 'safety', 'signals.js');
    const code = `import { onStopSignal } from ${JSON.stringify(mod)};
      onStopSignal({ graceful() { console.log('graceful'); }, kill(how) { console.log('killed: ' + how); } });
      console.log('ready'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const seen = (s: string) => new Promise<void>((resolve) => {
      const check = () => (out.includes(s) ? resolve() : undefined);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        check();
      });
      check();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    return { child, seen, exited, out: () => out };
  }

  it('first SIGINT is graceful, the second exits 130 after killing children', async () => {
    const p = stuck();
    await p.seen('ready');
    p.child.kill('SIGINT');
    await p.seen('graceful');
    p.child.kill('SIGINT');
    expect(await p.exited).toBe(130);
    // What the run writes into report.json's notes (runner.ts writeInterruptedReportSync).
    expect(p.out()).toContain('killed: interrupted by a second Ctrl-C');
  });

  it('SIGTERM exits 143 at once, after killing children', async () => {
    const p = stuck();
    await p.seen('ready');
    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    expect(p.out()).toContain('killed: terminated by SIGTERM');
    expect(p.out()).not.toContain('graceful');
  });

  it('SIGTERM during a run exits 143, kills the cell and releases the folder lock', async () => {
    const out = join(tmp, 'term');
    const child = spawn(process.execPath, [cli, 'run', '--backends', 'plain', '--limit', '300', '--train-steps', '200', '--inference-seconds', '0.2', '--no-torch', '--out', out, '--json'], {
      env: { ...process.env, INIT_CWD: tmp, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!sent && stdout.includes('"type":"cell-start"')) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(sent).toBe(true);
    expect(code).toBe(143);
    expect(existsSync(join(out, '.lenet-bench.lock'))).toBe(false);
  });
});

describe('2. one writer per output folder', () => {
  const liveLock = (dir: string) => {
    mkdirSync(dir, { recursive: true });
    // This test process is alive: its pid holds the lock.
    writeFileSync(join(dir, '.lenet-bench.lock'), JSON.stringify({ pid: process.pid, host: hostname(), command: 'run --out x', startedAt: '2026-01-01T00:00:00.000Z' }));
  };

  it.each([
    ['run --out', (d: string) => ['run', '--backends', 'plain', ...TINY, '--out', d]],
    ['reproduce --out', (d: string) => ['reproduce', 'd2l', '--limit', '300', '--out', d]],
  ])('%s on a folder another live lenet-bench holds: exit 1 naming the holder', async (_, args) => {
    const dir = join(tmp, `locked-${_.replace(/\W/g, '')}`);
    liveLock(dir);
    const r = await run(args(dir));
    expectOneLineError(r, 1, new RegExp(`is in use by another lenet-bench: pid ${process.pid} on ${hostname()}`));
    expect(readdirSync(dir)).toEqual(['.lenet-bench.lock']); // nothing written next to it
  });

  it('run --resume while the first run still goes: exit 1 naming the holder', async () => {
    const dir = join(tmp, 'locked-resume');
    liveLock(dir);
    const r = await run(['run', '--resume', dir]);
    expectOneLineError(r, 1, /--resume .* is in use by another lenet-bench: pid \d+/);
  });
});

describe('3./4. data directories and output checks of train/eval', () => {
  it('a corrupt file in --data-dir is an error (file, expected vs actual SHA-256), not a silent fallback to Debian', async () => {
    const { dir, bad, sha, expected } = corruptDataDir('bad-data');
    for (const [args, env] of [
      [['train', '--data-dir', dir, '--limit', '300', '--epochs', '1', '--json', '--out', 'w.safetensors'], {}],
      [['run', '--backends', 'plain', ...TINY, '--data-dir', dir, '--json', '--out', 'bad-data-run'], {}],
    ] as [string[], Record<string, string>][]) {
      const r = await run(args, env);
      expectOneLineError(r, 1, new RegExp(`\\(${bad.replace(/[.]/g, '\\.')}\\): expected SHA-256 ${expected}, got ${sha}`));
    }
    expect(existsSync(join(tmp, 'w.safetensors'))).toBe(false);
    expect(existsSync(join(tmp, 'bad-data-run'))).toBe(false);
  });

  it('LENET_DATA_DIR with a corrupt file: eval fails the same way', async () => {
    const { dir, expected, sha } = corruptDataDir('bad-env');
    expect((await run(['init', '--seed', '1', '--out', 'init.safetensors'])).code).toBe(0);
    const r = await run(['eval', '--weights', 'init.safetensors', '--limit', '100', '--json'], { LENET_DATA_DIR: dir });
    expectOneLineError(r, 1, new RegExp(`expected SHA-256 ${expected}, got ${sha}`));
  });

  it('train and eval say which data source and files were used (JSON and text)', async () => {
    const t = await run(['train', '--limit', '300', '--epochs', '1', '--batch-size', '100', '--json', '--out', 'src.safetensors']);
    expect(t.code, t.stderr).toBe(0);
    const result = t.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((l) => l.type === 'result');
    expect(result.dataSource).toMatchObject({ kind: 'debian', dir: DEBIAN });
    expect(result.dataSource.files).toHaveLength(4);
    expect(result.dataSource.files[0]).toMatchObject({ file: expect.any(String), sha256: expect.stringMatching(/^[0-9a-f]{64}$/), path: expect.stringContaining(DEBIAN) });
    const e = await run(['eval', '--weights', 'src.safetensors', '--limit', '100', '--json']);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout).dataSource).toMatchObject({ kind: 'debian', dir: DEBIAN });
    const text = await run(['eval', '--weights', 'src.safetensors', '--limit', '100']);
    expect(text.stdout).toContain(`Debian's dataset package (${DEBIAN})`);
  });

  it.each([
    [['--out', '/proc/nope/w.safetensors'], /--out \/proc\/nope\/w\.safetensors\): expected a writable file path on a regular filesystem, got a path under \/proc/],
    [['--out', '.'], /expected a writable file path on a regular filesystem, got an existing folder/],
  ])('train %j fails before training', async (out, pattern) => {
    const r = await run(['train', '--limit', '300', '--epochs', '1', ...out]);
    expectOneLineError(r, 2, pattern);
    expect(r.stderr).not.toMatch(/epoch/);
  });
});

describe('6. failed cells exit 3; --threads is bounded (and 9. hint quoting, md escaping, agreement repair)', () => {
  const dir = join(tmp, 'run with spaces');
  let first: Result;

  beforeAll(async () => {
    // A stale lock (a pid that has exited) is taken over with a note.
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, '.lenet-bench.lock'), JSON.stringify({ pid: Number(dead), host: hostname(), command: 'run', startedAt: '2026-01-01T00:00:00.000Z' }));
    // A model whose name would be live HTML in report.md.
    const spec = { ...getPreset('lenet5'), name: '<script>alert(1)</script>' };
    writeFileSync(join(tmp, 'evil.json'), JSON.stringify(spec));
    first = await run(['run', '--backends', 'plain,tfjs-node', '--model', 'evil.json', ...TINY, '--out', 'run with spaces']);
  }, 120_000);

  it('a run with a failed cell exits 3 and its report says "complete-with-errors"', async () => {
    expect(first.code, first.stderr).toBe(3);
    const report = readReport(dir);
    expect(report.status).toBe('complete-with-errors');
    expect(report.errors.map((e) => e.backend)).toEqual(['tfjs-node']);
    expect(first.stdout).toMatch(/report \(complete-with-errors\)/);
    expect(existsSync(join(dir, '.lenet-bench.lock'))).toBe(false);
  });

  it('the stale lock was taken over with a note', async () => {
    expect(first.stderr).toMatch(/note: took over a stale lock in .*run with spaces: pid \d+ .* is no longer running/);
  });

  it('the resume hint quotes a path with spaces', async () => {
    expect(first.stdout).toContain("continue with: lenet-bench run --resume 'run with spaces'");
  });

  it('the report records the data source', async () => {
    const report = readReport(dir);
    expect(report.config.dataSource).toMatchObject({ kind: 'debian', dir: DEBIAN });
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain(`debian ${DEBIAN}`);
  });

  it('report.md escapes HTML in names', async () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).not.toContain('<script>');
    expect(md).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).not.toContain('<script>alert');
  });

  it('a corrupt agreement/weights.safetensors is rebuilt on --resume instead of failing every cell', async () => {
    writeFileSync(join(dir, 'agreement', 'weights.safetensors'), 'garbage');
    rmSync(join(dir, 'cells', 'plain.json')); // plain runs again and reads the shared weights
    const r = await run(['run', '--resume', 'run with spaces', '--json']);
    expect(r.code, r.stderr).toBe(3); // tfjs-node still fails; plain must not
    const report = readReport(dir);
    const plain = report.results.find((x) => x.backend === 'plain')!;
    expect(plain.status, plain.error?.message).toBe('ok');
    expect(plain.agreement).not.toBeNull();
    expect(report.notes.some((n) => /agreement\/weights\.safetensors was unusable/.test(n))).toBe(true);
  });

  it('--threads above 4x the cores is a usage error (exit 2), not a backend error', async () => {
    const r = await run(['run', '--backends', 'plain', ...TINY, '--threads', '100000', '--out', 'threads']);
    expectOneLineError(r, 2, /--threads <n(\|list)?>.*expected at most \d+ \(4x the \d+ available cores\), got 100000/);
    expect(existsSync(join(tmp, 'threads'))).toBe(false);
  });
});

describe('7. model memory bound', () => {
  const wide = (channels: number) => {
    const spec = getPreset('lenet5');
    (spec.layers[0] as { outChannels: number }).outChannels = channels;
    return spec;
  };

  it('init of a 1,000,000-channel spec is refused before allocating, naming the numbers and the flag', async () => {
    writeFileSync(join(tmp, 'huge.json'), JSON.stringify(wide(1_000_000)));
    const r = await run(['init', '--seed', '0', '--model', 'huge.json', '--out', 'huge.safetensors'], {}, 30_000);
    expectOneLineError(r, 1, /too large: expected at most 50,000,000 parameters, got 426,059,150 .*--allow-large-model/);
    expect(existsSync(join(tmp, 'huge.safetensors'))).toBe(false);
  });

  it('the activation bound applies too, and --allow-large-model overrides it', async () => {
    writeFileSync(join(tmp, 'wide.json'), JSON.stringify(wide(300)));
    const r = await run(['init', '--seed', '0', '--model', 'wide.json', '--out', 'wide.safetensors']);
    expectOneLineError(r, 1, /expected at most 256 MiB of activations for a batch of 1000, got \d+ MiB/);
    expectOneLineError(await run(['train', '--limit', '10', '--epochs', '1', '--model', 'wide.json', '--out', 'wide-t.safetensors']), 1, /too large/);
    const ok = await run(['init', '--seed', '0', '--model', 'wide.json', '--out', 'wide.safetensors', '--allow-large-model']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(join(tmp, 'wide.safetensors'))).toBe(true);
  });
});

describe('8. user mistakes get one line naming the file and what was expected', () => {
  it('non-JSON "spec" metadata in safetensors', async () => {
    const spec = getPreset('lenet5');
    writeFileSync(join(tmp, 'badmeta.safetensors'), encodeSafetensors(initWeights(spec, 0), { spec: '{not json' }));
    const r = await run(['eval', '--weights', 'badmeta.safetensors']);
    expectOneLineError(r, 1, /badmeta\.safetensors: metadata "spec" is not valid JSON: expected a model spec JSON object, got "\{not json"/);
  });

  it('a corrupt reproduce config.json', async () => {
    const dir = join(tmp, 'repro-bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), '{"recipe": "d2l", ');
    const r = await run(['reproduce', 'd2l', '--limit', '300', '--out', 'repro-bad']);
    expectOneLineError(r, 1, /repro-bad\/config\.json: expected the JSON settings object written by lenet-bench reproduce/);
    expect(existsSync(join(dir, '.lenet-bench.lock'))).toBe(false);
  });

  it.each([
    ['init --out <folder> (EISDIR)', () => ['init', '--seed', '0', '--out', tmp], /expected a writable file path .*got an existing folder/],
    ['run --out <file> (EEXIST/ENOTDIR)', () => ['run', '--backends', 'plain', ...TINY, '--out', join(tmp, 'evil.json')], /expected a writable folder .*got an existing file/],
    ['export-onnx --out under a file (ENOTDIR)', () => ['export-onnx', '--weights', 'x.safetensors', '--out', join(tmp, 'evil.json', 'm.onnx')], /got a path through a file/],
  ])('%s', async (_, args, pattern) => {
    if (!existsSync(join(tmp, 'evil.json'))) writeFileSync(join(tmp, 'evil.json'), '{}');
    expectOneLineError(await run(args()), 2, pattern);
  });
});

describe('README: the exit-code table is complete', () => {
  it('every code the CLI uses has a row in README.md and apps/bench/README.md', async () => {
    const { EXIT } = await import('../src/errors.js');
    for (const readme of [join(here, '..', '..', '..', 'README.md'), join(here, '..', 'README.md')]) {
      const text = readFileSync(readme, 'utf8');
      const section = text.slice(text.indexOf('### Exit codes'));
      for (const code of Object.values(EXIT)) expect(section, readme).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
      expect(section).toMatch(/\| 3 \| completed, but one or more cells failed/);
    }
  });
});
