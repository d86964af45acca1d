// Issues 25 and 29 ("Hardening, round 3"; browser on SIGTERM): one regression test per defect,
// through the built CLI (dist/cli.js) with tiny budgets and real data. Each of these failed (or
// hung) on the code before the fix. The one-line bad-input cases are rows of bad-inputs.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeSafetensors, getPreset, initWeights } from '@lenet/model';
import type { Report } from '../src/run/types.js';
import { processStartTime } from '../src/safety/lock.js';
import { CLI, expectOneLineError, runCli, type CliResult } from './cli-process.js';

const here = dirname(fileURLToPath(import.meta.url));
const webDist = join(here, '..', '..', 'web', 'dist', 'index.html');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-harden3-'));
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) spawnSync('umount', ['-l', m]);
  rmSync(tmp, { recursive: true, force: true });
});

const TINY = ['--profile', 'smoke', '--limit', '300', '--train-steps', '2', '--inference-seconds', '0.2', '--agreement-images', '20', '--no-torch'];
const run = (args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<CliResult> => runCli(args, tmp, env, { timeoutMs });
const readReport = (dir: string) => JSON.parse(readFileSync(join(tmp, dir, 'report.json'), 'utf8')) as Report;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file below `dir` (relative), for "nothing half-written" checks. */
function files(dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]));
}

/**
 * A CLI process that gets `signal` once its stdout shows `when` (and again `times` times), with
 * its exit code and output.
 */
function signalled(args: string[], when: RegExp, signal: NodeJS.Signals, times = 1, env: Record<string, string> = {}): Promise<CliResult & { sent: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, INIT_CWD: tmp, CI: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sent = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), 240_000);
    const check = () => {
      if (sent === 0 && when.test(stdout + stderr)) {
        for (let k = 0; k < times; k++) setTimeout(() => child.kill(signal), 300 * k);
        sent = times;
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      check();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      check();
    });
    child.on('close', (code, sig) => {
      clearTimeout(timer);
      resolve({ code, signal: sig, stdout, stderr, sent });
    });
  });
}

/** A small tmpfs at `dir`, or null where this process may not mount (not root, a locked container). */
function smallDisk(dir: string, size: string): string | null {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) return null;
  mounts.push(dir);
  return dir;
}

describe('#25.1/2 merge: output checked first, every row kept', () => {
  beforeAll(async () => {
    // Two runs of the same backend on this machine, and one more to vary the spec name of.
    for (const dir of ['p1', 'p2']) {
      const r = await run(['run', '--backends', 'plain', ...TINY, '--out', dir]);
      expect(r.code, r.stderr).toBe(0);
    }
  }, 300_000);

  it('--out under /proc, /sys or an existing file: exit 2 at once (it hung on /proc)', async () => {
    for (const [out, what] of [['/proc/merged', /got a path under \/proc/], ['/sys/x', /got a path under \/sys/], ['p1/report.json', /got an existing file/]] as const) {
      const r = await run(['merge', 'p1', 'p2', '--out', out], {}, 30_000);
      expect(r.signal, `${out} timed out`).toBeNull();
      expectOneLineError(r, 2, what);
    }
  });

  it('two runs of plain on one machine: both rows kept side by side with their source, and a note says so', async () => {
    const r = await run(['merge', 'p1', 'p2', '--out', 'both']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/merged 2 reports \(2 rows\)/);
    const m = readReport('both');
    expect(m.results.map((x) => x.backend)).toEqual(['plain [source 1]', 'plain [source 2]']);
    expect(m.results.map((x) => x.source)).toEqual([join(tmp, 'p1', 'report.json'), join(tmp, 'p2', 'report.json')]);
    // The measured numbers are each source's own, not one copied twice.
    expect(m.results[0]!.training!.lossTrace).toEqual(readReport('p1').results[0]!.training!.lossTrace);
    expect(m.results[1]!.inference).toEqual(readReport('p2').results[0]!.inference);
    expect(m.notes.some((n) => /kept side by side as "<backend> \[source N\]": plain/.test(n))).toBe(true);
    expect(readFileSync(join(tmp, 'both', 'report.md'), 'utf8')).toContain('plain [source 2]');
  });

  it('the same report twice (or a copy of it) is refused, naming it', async () => {
    const twice = await run(['merge', 'p1', 'p1', '--out', 'twice']);
    expectOneLineError(twice, 1, /p1\/report\.json with itself: it is given twice/);
    mkdirSync(join(tmp, 'p1-copy'), { recursive: true });
    writeFileSync(join(tmp, 'p1-copy', 'report.json'), readFileSync(join(tmp, 'p1', 'report.json')));
    const copy = await run(['merge', 'p1', 'p1-copy', '--out', 'copy']);
    expectOneLineError(copy, 1, /they are the same run \(created .*\), so every row would be counted twice/);
    expect(existsSync(join(tmp, 'twice'))).toBe(false);
    expect(existsSync(join(tmp, 'copy', 'report.json'))).toBe(false);
  });

  it('two different specs with one name: the refusal names the layer that differs', async () => {
    const edited = readReport('p2');
    (edited.config.modelSpec.layers[0] as { outChannels: number }).outChannels = 8;
    mkdirSync(join(tmp, 'p2-edited'), { recursive: true });
    writeFileSync(join(tmp, 'p2-edited', 'report.json'), JSON.stringify(edited));
    const r = await run(['merge', 'p1', 'p2-edited', '--out', 'edited']);
    expectOneLineError(r, 1, /config\.modelSpec differs \(layer 0: conv2d 6 channels.* vs conv2d 8 channels/);
  });

  it('Markdown in a spec name stays text in report.md (report.html already escaped it)', async () => {
    const named = readReport('p1');
    named.config.modelSpec.name = '**bold** `code` [x](javascript:alert(1))';
    mkdirSync(join(tmp, 'md'), { recursive: true });
    writeFileSync(join(tmp, 'md', 'report.json'), JSON.stringify(named));
    const r = await run(['report', 'md']);
    expect(r.code, r.stderr).toBe(0);
    const heading = readFileSync(join(tmp, 'md', 'report.md'), 'utf8').split('\n').find((l) => l.startsWith('# '))!;
    expect(heading).toContain('\\*\\*bold\\*\\*');
    expect(heading).toContain('\\`code\\`');
    expect(heading).not.toMatch(/\[x\]\(javascript:/);
  });
});

describe('#25.4 weights and --model', () => {
  it('eval --model that differs from the model stored in the weights file: exit 2 naming both', async () => {
    const spec = getPreset('lenet5');
    writeFileSync(join(tmp, 'l5.safetensors'), encodeSafetensors(initWeights(spec, 0), { spec: JSON.stringify(spec) }));
    const r = await run(['eval', '--weights', 'l5.safetensors', '--model', 'lenet5-modern', '--limit', '100']);
    expectOneLineError(r, 2, /--model lenet5-modern: .*l5\.safetensors holds model "lenet5", not "lenet5-modern" \(layer 1: activation sigmoid vs activation relu\)/);
    // The same file with its own model (or --model naming it) evaluates.
    expect((await run(['eval', '--weights', 'l5.safetensors', '--model', 'lenet5', '--limit', '100'])).code).toBe(0);
  });
});

describe('#25.5 the lock knows its holder: pid plus start time and boot id', () => {
  const lockIn = (dir: string, holder: Record<string, unknown>) => {
    mkdirSync(join(tmp, dir), { recursive: true });
    writeFileSync(join(tmp, dir, '.lenet-bench.lock'), JSON.stringify({ host: hostname(), command: 'run', startedAt: '2026-01-01T00:00:00.000Z', ...holder }) + '\n');
  };

  it('a live pid that is another process now (pid 1, another start time) is a stale lock: taken over with a note', async () => {
    lockIn('reused', { pid: 1, procStart: '999999999' });
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', 'reused']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/took over a stale lock .*pid 1 .*is now another process \(the pid was reused\)/);
    expect(existsSync(join(tmp, 'reused', '.lenet-bench.lock'))).toBe(false);
  });

  it('a lock from before the last reboot is stale', async () => {
    lockIn('rebooted', { pid: 1, procStart: processStartTime(1), bootId: '00000000-0000-0000-0000-000000000000' });
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', 'rebooted']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/was taken before the last reboot/);
  });

  it('a live holder (this test process, its real start time) keeps the folder; the error names the file to delete', async () => {
    lockIn('held', { pid: process.pid, procStart: processStartTime(process.pid) });
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', 'held']);
    expectOneLineError(r, 1, new RegExp(`in use by another lenet-bench: pid ${process.pid} .*if no lenet-bench is running there, delete .*held/\\.lenet-bench\\.lock`));
  });
});

describe('#25.7 a run stopped any way says so in report.json', () => {
  it('SIGTERM: exit 143, status "interrupted" with a note naming SIGTERM, finished cells kept', async () => {
    const r = await signalled(['run', '--backends', 'plain,plain-js', '--limit', '300', '--train-steps', '400', '--inference-seconds', '0.2', '--no-torch', '--out', 'term', '--json'], /"type":"cell-start"/, 'SIGTERM');
    expect(r.sent).toBe(1);
    expect(r.code, r.stderr).toBe(143);
    const rep = readReport('term');
    expect(rep.status).toBe('interrupted');
    expect(rep.notes.some((n) => /terminated by SIGTERM at .*lenet-bench run --resume DIR continues/.test(n))).toBe(true);
    expect(rep.pending.length).toBeGreaterThan(0);
    expect(readFileSync(join(tmp, 'term', 'report.md'), 'utf8')).toMatch(/interrupted/);
    // `report` shows it as interrupted, not running.
    const shown = await run(['report', 'term']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(readFileSync(join(tmp, 'term', 'report.md'), 'utf8')).not.toMatch(/status: running/i);
    expect(files(join(tmp, 'term')).filter((f) => f.endsWith('.tmp') || f.endsWith('.lock'))).toEqual([]);
  });

  it('one Ctrl-C: exit 130 after a graceful stop, status "interrupted" naming Ctrl-C', async () => {
    const r = await signalled(['run', '--backends', 'plain', '--limit', '300', '--train-steps', '400', '--inference-seconds', '0.2', '--no-torch', '--out', 'int1', '--json'], /"type":"cell-start"/, 'SIGINT');
    expect(r.code, r.stderr).toBe(130);
    const rep = readReport('int1');
    expect(rep.status).toBe('interrupted');
    expect(rep.notes.some((n) => /^interrupted by Ctrl-C at /.test(n))).toBe(true);
  });
  // A second Ctrl-C during the graceful stop takes the SIGTERM path (the same synchronous report
  // write, its note naming the second Ctrl-C): hardening.test.ts checks the note text, since a
  // graceful stop here ends within ~40 ms, too soon to land a second signal in it reliably.
});

describe('#25.3 full disks: the error names the file, nothing half-written, the report says it stopped', () => {
  it('run on a 560 KiB disk: exit 1 "write failed <path>: disk full (ENOSPC)", no temp files, report.json not "running"', async (ctx) => {
    const disk = smallDisk(join(tmp, 'disk-run'), '560k');
    if (!disk) return ctx.skip('cannot mount a tmpfs here (needs root outside a locked-down container)');
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', join(disk, 'r')]);
    // stderr carries the run's progress lines first; the error is its last line, and the only one.
    expect(r.code, r.stderr).toBe(1);
    const errors = r.stderr.trim().split('\n').filter((l) => /error/i.test(l));
    expect(errors, r.stderr).toHaveLength(1);
    expect(r.stderr.trim().split('\n').pop()).toMatch(new RegExp(`^error: write failed ${disk}/r/\\S+: disk full \\(ENOSPC\\)$`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toMatch(/unknown path/);
    expect(files(disk).filter((f) => f.endsWith('.tmp') || f.includes('.lenet-bench.lock'))).toEqual([]);
    if (existsSync(join(disk, 'r', 'report.json'))) {
      const rep = JSON.parse(readFileSync(join(disk, 'r', 'report.json'), 'utf8')) as Report;
      expect(rep.status).toBe('interrupted');
      expect(rep.notes.some((n) => /stopped at .* by an error: write failed .*disk full/.test(n))).toBe(true);
      // A backend is pending only while its row is unfinished (no inference yet).
      for (const p of rep.pending) expect(rep.results.find((x) => x.backend === p)?.inference ?? null).toBeNull();
    }
  });

  it('a 100%-full disk: the lock cannot be taken, and no 0-byte lock temp file is left', async (ctx) => {
    const disk = smallDisk(join(tmp, 'disk-full'), '64k');
    if (!disk) return ctx.skip('cannot mount a tmpfs here (needs root outside a locked-down container)');
    spawnSync('dd', ['if=/dev/zero', `of=${join(disk, 'filler')}`, 'bs=4k'], { encoding: 'utf8' }); // fills it
    mkdirSync(join(disk, 'r'));
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', join(disk, 'r')]);
    expectOneLineError(r, 1, new RegExp(`write failed ${disk}/r/\\.lenet-bench\\.lock: disk full \\(ENOSPC\\)`));
    expect(readdirSync(join(disk, 'r'))).toEqual([]);
  });

  it('export-onnx on a 200 KiB disk: the error names the .onnx file, which is not left half-written', async (ctx) => {
    const disk = smallDisk(join(tmp, 'disk-onnx'), '200k');
    if (!disk) return ctx.skip('cannot mount a tmpfs here (needs root outside a locked-down container)');
    const spec = getPreset('lenet5');
    writeFileSync(join(tmp, 'w.safetensors'), encodeSafetensors(initWeights(spec, 0), { spec: JSON.stringify(spec) }));
    const r = await run(['export-onnx', '--weights', 'w.safetensors', '--out', join(disk, 'm.onnx')]);
    expectOneLineError(r, 1, new RegExp(`write failed ${disk}/m\\.onnx: disk full \\(ENOSPC\\)`));
    expect(readdirSync(disk)).toEqual([]);
  });
});

describe('#29 browser: SIGTERM exits 143 and SIGINT 130, Chromium gone, the report valid', () => {
  const chromiumOf = (marker: string) =>
    spawnSync('pgrep', ['-f', marker], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
  const ready = (ctx: { skip: (why: string) => void }) => {
    if (!existsSync('/usr/bin/chromium')) return ctx.skip('/usr/bin/chromium is not installed (Debian package chromium)');
    if (!existsSync(webDist)) return ctx.skip('apps/web/dist is not built (pnpm --filter @lenet/web build)');
  };

  beforeAll(async () => {
    const r = await run(['run', '--backends', 'plain', ...TINY, '--out', 'b']);
    expect(r.code, r.stderr).toBe(0);
    const spec = getPreset('lenet5');
    writeFileSync(join(tmp, 'bw.safetensors'), encodeSafetensors(initWeights(spec, 0), { spec: JSON.stringify(spec) }));
  }, 120_000);

  it.for([
    ['SIGTERM during inference', 'SIGTERM', 143, ['--backends', 'plain-wasm,plain-js', '--limit', 'all', '--inference-seconds', '5'], /browser: running plain-wasm/],
    ['SIGINT during inference', 'SIGINT', 130, ['--backends', 'plain-wasm,plain-js', '--limit', 'all', '--inference-seconds', '5'], /browser: running plain-wasm/],
    ['SIGTERM during --train-steps', 'SIGTERM', 143, ['--backends', 'plain-wasm', '--inference-seconds', '0.2', '--train-steps', '2000'], /browser: training plain-wasm for 2000 steps/],
    ['SIGTERM without --report (--weights)', 'SIGTERM', 143, ['--weights', 'bw.safetensors', '--backends', 'plain-wasm', '--limit', 'all', '--inference-seconds', '5'], /browser: running plain-wasm/],
  ] as const)('%s: exit %s, report.json unchanged and valid, no Chromium left', async ([, signal, code, args, when], ctx) => {
    ready(ctx);
    const before = sha(join(tmp, 'b', 'report.json'));
    // Chromium's profile is made in TMPDIR: a folder of this case's own, to find its processes.
    // (Short: Chromium's singleton socket lives below it, and socket paths have 107 bytes.)
    const own = mkdtempSync('/tmp/lb-');
    const r = await signalled(['browser', ...((args as readonly string[]).includes('--weights') ? [] : ['--report', 'b']), ...args], when, signal, 1, { TMPDIR: own });
    expect(r.sent, r.stdout + r.stderr).toBe(1);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).not.toMatch(/unexpected error|Target page, context or browser has been closed/);
    expect(sha(join(tmp, 'b', 'report.json'))).toBe(before);
    expect(files(join(tmp, 'b')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await run(['report', 'b'])).code).toBe(0); // still a valid report
    // Chromium's profile and temp folders are in TMPDIR (`own`): no process names them any more,
    // and they are removed.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(chromiumOf(`${own}/`)).toEqual([]);
    expect(readdirSync(own)).toEqual([]);
    rmSync(own, { recursive: true, force: true });
  });
});
