// `lenet-bench run` / `report` / `compare` end to end through the built CLI (dist/cli.js): real
// backends in real child processes, tiny budgets (--limit, --train-steps), real failures
// (an unavailable backend, a child SIGKILLed through the LENET_BENCH_TEST_KILL hook, Ctrl-C).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './cli-process.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/run/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');
const artifacts = join(here, '..', 'test-artifacts');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TINY = ['--profile', 'smoke', '--limit', '600', '--train-steps', '3', '--inference-seconds', '0.3', '--agreement-images', '40'];
const torchAvailable = spawnSync(existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3', ['-c', 'import torch'], { timeout: 60_000 }).status === 0;

const run = (args: string[], env: Record<string, string> = {}) => runCli(args, tmp, env);

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Report;
const jsonLines = (s: string) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; [k: string]: unknown });

describe('run: usage errors exit 2', () => {
  it.each([
    [['run', '--backends', 'plain,nope'], /unknown backend "nope"; known backends: .*plain/],
    [['run', '--profile', 'fast'], /--profile.*Allowed choices are quick, full, smoke/],
    [['run', '--batch-sizes', '8,0'], /--batch-sizes: expected a comma-separated list of integers/],
    [['run', '--resume', 'somewhere', '--seed', '3'], /do not combine it with --seed/],
    [['run', '--epochs', '0'], /--epochs <n>.*positive integer/],
  ])('%j', async (args, pattern) => {
    const r = await run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
  });

  it('report on a folder without report.json: exit 1, one line naming the file', async () => {
    const r = await run(['report', 'no-such-run']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no-such-run[/\\]report\.json not found/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('a run with a failing backend and a killed child, then --resume', () => {
  const dir = join(tmp, 'run-a');
  const backends = ['plain', 'tfjs-node', 'plain-js', ...(torchAvailable ? ['pytorch'] : [])];
  let first: Awaited<ReturnType<typeof run>>;
  let firstReport: Report;
  let plainCellBefore: string;

  beforeAll(async () => {
    // tfjs-node is not installed here: a real "not available" failure. plain-js is SIGKILLed
    // by its own process when it starts training (a crash the runtime cannot report).
    first = await run(['run', '--backends', backends.join(','), ...TINY, '--out', 'run-a', '--json'], { LENET_BENCH_TEST_KILL: 'plain-js:train' });
    firstReport = readJson(join(dir, 'report.json'));
    plainCellBefore = readFileSync(join(dir, 'cells', 'plain.json'), 'utf8');
  }, 180_000);

  it('finishes with exit 3 (cells failed), one row per backend, and --json prints only JSON lines', async () => {
    expect(first.code, first.stderr).toBe(3);
    const lines = jsonLines(first.stdout);
    expect(lines[0]!.type).toBe('start');
    expect(lines.at(-1)!.type).toBe('done');
    // Cells end in any order (they run interleaved); each reports exactly once.
    expect(lines.filter((l) => l.type === 'cell').map((l) => l.backend).sort()).toEqual([...backends].sort());
    expect(firstReport.status).toBe('complete-with-errors');
    expect(firstReport.results.map((r) => r.backend)).toEqual(backends);
  });

  it('the unavailable backend gets an error row with its reason; the others still ran', async () => {
    const row = firstReport.results.find((r) => r.backend === 'tfjs-node')!;
    expect(row.status).toBe('error');
    expect(row.error!.message).toMatch(/not available/);
    expect(firstReport.errors.map((e) => e.backend)).toContain('tfjs-node');
    const plain = firstReport.results.find((r) => r.backend === 'plain')!;
    expect(plain.status).toBe('ok');
    expect(plain.training!.epochs).toHaveLength(1);
    expect(plain.training!.epochs[0]!.steps).toBe(3);
    expect(plain.evaluation!.count).toBe(600);
    expect(plain.evaluation!.confusion.flat().reduce((a, b) => a + b, 0)).toBe(600);
    expect(plain.inference!.batch1.p50Ms).toBeGreaterThan(0);
    expect(plain.inference!.batch256.samplesMs.length).toBeGreaterThan(0);
    // Schema 2: every figure comes from several windows, with an interval when there are enough.
    expect(plain.inference!.windows!.filter((w) => w.batchSize === 256)).toHaveLength(6);
    expect(plain.inference!.batches!.map((b) => b.batchSize)).toEqual([1, 256]);
    expect(plain.training!.windows!.length).toBeGreaterThanOrEqual(1);
    expect(plain.training!.curve!.at(-1)!.steps).toBe(3);
    expect(firstReport.noise!.length).toBeGreaterThanOrEqual(2);
    expect(plain.peakRssMB).toBeGreaterThan(10);
    // plain trained first: its weights are the shared agreement weights.
    expect(firstReport.agreement!.source).toMatch(/plain/);
    expect(plain.agreement!.images).toBe(40);
    expect(plain.agreement!.maxAbsLogitDiff).toBeLessThan(1e-3);
  });

  it('the SIGKILLed child gets an error row naming the signal and the phase', async () => {
    const row = firstReport.results.find((r) => r.backend === 'plain-js')!;
    expect(row.status).toBe('error');
    expect(row.error).toEqual({ phase: 'train', message: expect.stringMatching(/killed by SIGKILL during train/) });
    expect(row.runtime).toBeTruthy(); // phases before the crash are kept
  });

  it.runIf(torchAvailable)('the PyTorch cell records the build it really ran on: an optimized BLAS here, no header warning', async () => {
    const torch = firstReport.results.find((r) => r.backend === 'pytorch')!;
    const build = torch.build as { blas: { kind: string; library: string }; mkldnn: { available: boolean }; threads: number };
    expect(['openblas', 'mkl', 'blis']).toContain(build.blas.kind);
    expect(build.threads).toBeGreaterThanOrEqual(1);
    // (a busy-machine warning may appear when other work runs alongside the tests; a torch-build one must not)
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).not.toMatch(/\*\*Warning:\*\* (pytorch|The PyTorch column)/);
  });

  it.runIf(torchAvailable)('PyTorch trains on identical work: same first-epoch loss as plain', async () => {
    const torch = firstReport.results.find((r) => r.backend === 'pytorch')!;
    const plain = firstReport.results.find((r) => r.backend === 'plain')!;
    expect(torch.status, torch.error?.message).toBe('ok');
    expect(torch.kind).toBe('reference');
    expect(torch.training!.epochs[0]!.steps).toBe(3);
    expect(Math.abs(torch.training!.epochs[0]!.trainLoss - plain.training!.epochs[0]!.trainLoss)).toBeLessThan(1e-4);
    expect(torch.agreement!.maxAbsLogitDiff).toBeLessThan(1e-3);
  });

  it('--resume keeps finished cells and completes the killed one', async () => {
    const r = await run(['run', '--resume', 'run-a', '--json']);
    expect(r.code, r.stderr).toBe(3); // tfjs-node still fails
    const lines = jsonLines(r.stdout);
    const skipped = lines.filter((l) => l.type === 'skip').map((l) => l.backend);
    expect(skipped).toContain('plain');
    expect(readFileSync(join(dir, 'cells', 'plain.json'), 'utf8')).toBe(plainCellBefore);
    const report = readJson(join(dir, 'report.json'));
    expect(report.status).toBe('complete-with-errors');
    const pjs = report.results.find((x) => x.backend === 'plain-js')!;
    expect(pjs.status, pjs.error?.message).toBe('ok');
    // Same init and batch order as plain: the same first-step losses up to float rounding.
    const plain = report.results.find((x) => x.backend === 'plain')!;
    expect(Math.abs(pjs.training!.epochs[0]!.trainLoss - plain.training!.epochs[0]!.trainLoss)).toBeLessThan(1e-4);
    expect(pjs.agreement!.identicalPredictions).toBeGreaterThan(0.9);
    expect(report.errors.map((e) => e.backend)).toEqual(['tfjs-node']);
    expect(report.notes.some((n) => /resumed/.test(n))).toBe(true);
  });

  it('report re-renders report.md and report.html from report.json', async () => {
    rmSync(join(dir, 'report.md'));
    rmSync(join(dir, 'report.html'));
    const r = await run(['report', 'run-a']);
    expect(r.code, r.stderr).toBe(0);
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toMatch(/^# lenet-bench: lenet5 on fashion-mnist/);
    expect(md).toMatch(/\| backend \| epochs \| train img\/s \[95% CI\] \| vs fastest \| vs PyTorch \|/);
    expect(md).toMatch(/## Time to accuracy/);
    expect(md).toMatch(/\| plain-js \|/);
    expect(md).toMatch(/## Errors[\s\S]*tfjs-node/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html.match(/<svg/g)!.length).toBeGreaterThanOrEqual(5);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/); // offline, self-contained
  });

  it('names the runtime it ran on: Node/V8, end of life, wasm features, and plain\'s kernel tier', async () => {
    const e = firstReport.environment;
    expect(e.node).toBe(process.version);
    expect(e.nodeSupport!.major).toBe(Number(process.versions.node.split('.')[0]));
    // Children get --experimental-wasm-relaxed-simd on Node 20 and need nothing on Node >= 21.
    expect(e.wasm).toMatchObject({ simd: true, relaxedSimd: true, threads: true });
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain(`Node ${e.node} (V8 ${e.v8}`);
    expect(md).toMatch(/; wasm SIMD, relaxed SIMD[^;]*, threads;/);
    if (e.nodeSupport!.pastEndOfLife) expect(md).toContain(`; end of life since ${e.nodeSupport!.endOfLife})`);
    else expect(md).not.toContain('end of life since');
    expect(firstReport.results.find((r) => r.backend === 'plain')!.runtime).toContain('WebAssembly relaxed-SIMD kernels');
  });

  it('compare prints both reports side by side with ratios', async () => {
    const r = await run(['compare', 'run-a', join(dir, 'report.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^A: /);
    // The same report twice: every figure is within noise of itself.
    expect(r.stdout).toMatch(/plain .*no significant difference/);
    const j = await run(['compare', 'run-a', 'run-a', '--json']);
    const rows = (JSON.parse(j.stdout) as { rows: { backend: string; trainRatio: number | null; b256: { verdict: string } }[] }).rows;
    expect(rows.find((x) => x.backend === 'plain')!.trainRatio).toBe(1);
  });

  describe('schema validation', () => {
    it('the written report is valid; broken copies are rejected naming the path and problem', async () => {
      const { validateReport } = await import('../src/report/schema.js');
      const good = readJson(join(dir, 'report.json'));
      expect(() => validateReport(good, 'good.json')).not.toThrow();
      const broken = (mutate: (r: Record<string, any>) => void) => {
        const copy = JSON.parse(JSON.stringify(good));
        mutate(copy);
        return copy;
      };
      expect(() => validateReport(broken((r) => delete r.config), 'a.json')).toThrow(/a\.json does not match the report schema[\s\S]*missing property "config"/);
      expect(() => validateReport(broken((r) => (r.status = 'done')), 'b.json')).toThrow(/\/status: must be equal to one of the allowed values \("running", "complete", "complete-with-errors", "interrupted"\)/);
      expect(() => validateReport(broken((r) => (r.results[0].evaluation.accuracy = 1.5)), 'c.json')).toThrow(/\/results\/0\/evaluation\/accuracy: must be <= 1/);
      expect(() => validateReport(broken((r) => (r.results[0].surprise = 1)), 'd.json')).toThrow(/\/results\/0: unexpected property "surprise"/);
      expect(() => validateReport(broken((r) => (r.schemaVersion = 3)), 'e.json')).toThrow(/schema version 3 is not supported/);
    });

    it('report on a corrupt report.json: exit 1 with the schema problem', async () => {
      const bad = join(tmp, 'bad');
      mkdirSync(bad, { recursive: true });
      const copy = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
      copy.results[0].inference.batch1.p50Ms = 'fast';
      writeFileSync(join(bad, 'report.json'), JSON.stringify(copy));
      const r = await run(['report', 'bad']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ReportFormatError: .*bad[/\\]report\.json does not match the report schema/);
      expect(r.stderr).toMatch(/\/results\/0\/inference\/batch1\/p50Ms: must be number/);
      writeFileSync(join(bad, 'report.json'), '{ not json');
      expect((await run(['report', 'bad'])).stderr).toMatch(/is not valid JSON/);
    });
  });

  it('report.html opens in Chromium and shows the charts (screenshot artifact)', async (ctx) => {
    if (!existsSync('/usr/bin/chromium')) {
      ctx.skip('/usr/bin/chromium is not installed (Debian package chromium): the browser check needs it');
      return;
    }
    const { chromium } = await import('playwright-core');
    const profile = mkdtempSync(join(tmpdir(), 'lenet-chromium-'));
    // A fresh profile folder (playwright passes it as --user-data-dir).
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (req) => requests.push(req.url()));
      await page.goto(`file://${join(dir, 'report.html')}`);
      const charts = await page.$$eval('figure.chart', (figs) =>
        figs.map((f) => {
          const svg = f.querySelector('svg');
          const box = svg?.getBoundingClientRect();
          return { id: f.getAttribute('data-chart'), marks: svg ? svg.querySelectorAll('path, rect, line').length : 0, width: box?.width ?? 0, height: box?.height ?? 0 };
        }),
      );
      expect(charts.map((c) => c.id)).toEqual(expect.arrayContaining(['accuracy-vs-epochs', 'loss', 'train-throughput', 'infer-throughput', 'latency']));
      for (const c of charts) {
        expect(c.marks, `chart ${c.id}`).toBeGreaterThan(5);
        expect(c.width, `chart ${c.id}`).toBeGreaterThan(200);
        expect(c.height, `chart ${c.id}`).toBeGreaterThan(50);
      }
      expect(await page.locator('#cross-backend-agreement table tbody tr').count()).toBeGreaterThanOrEqual(2);
      expect(requests.filter((u) => !u.startsWith('file:'))).toEqual([]);
      mkdirSync(artifacts, { recursive: true });
      const shot = join(artifacts, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(statSync(shot).size).toBeGreaterThan(30_000); // a blank page compresses to a few KB
    } finally {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});

describe('Ctrl-C', () => {
  it('SIGINT stops every cell, exits 130 and keeps the training that finished; --resume measures the rest', async () => {
    const child = spawn(process.execPath, [cli, 'run', '--backends', 'plain,plain-js', ...TINY, '--limit', '6000', '--train-steps', '40', '--train-seconds', '600', '--no-torch', '--out', 'run-int', '--json'], {
      env: { ...process.env, INIT_CWD: tmp, CI: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let sent = false;
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      // Interrupt once the first backend has finished training (plain-js, 10x slower, has not).
      if (!sent && /"type":"trained","backend":"plain"/.test(out)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(sent).toBe(true);
    expect(code).toBe(130);
    const report = readJson(join(tmp, 'run-int', 'report.json'));
    const { validateReport } = await import('../src/report/schema.js');
    expect(() => validateReport(report, 'run-int')).not.toThrow();
    expect(report.status).toBe('interrupted');
    expect(report.results.map((r) => r.backend)).toEqual(['plain']);
    expect(report.results[0]!.training!.epochs[0]!.steps).toBe(40);
    expect(report.pending).toEqual(['plain', 'plain-js']);

    const r = await run(['run', '--resume', 'run-int', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const done = readJson(join(tmp, 'run-int', 'report.json'));
    expect(done.status).toBe('complete');
    const plain = done.results.find((x) => x.backend === 'plain')!;
    expect(plain.training!.epochs[0]!.steps).toBe(40); // kept, not trained again
    expect(plain.inference).not.toBeNull();
    expect(done.results.find((x) => x.backend === 'plain-js')!.training!.epochs[0]!.steps).toBe(40);
  });
});

describe('quick profile: a target reached in the first windows', () => {
  it('trains on to 7 windows (warm-up + 6), so throughput and ratios get intervals; time to target is still the first hit', async () => {
    const backends = ['plain', ...(torchAvailable ? ['pytorch'] : [])];
    // lenet5-modern reaches 30% within the first window; windows of 0.3 s keep the test short.
    const r = await run(['run', '--backends', backends.join(','), '--model', 'lenet5-modern', '--profile', 'quick', '--limit', '1000', '--epochs', '400', '--target-accuracy', '0.3',
      '--train-window-seconds', '0.3', '--eval-images', '100', '--inference-seconds', '0.3', '--agreement-images', '20', '--no-peaks', '--out', 'early-target']);
    expect(r.code, r.stderr).toBe(0);
    const report = readJson(join(tmp, 'early-target', 'report.json'));
    for (const b of backends) {
      const t = report.results.find((x) => x.backend === b)!.training!;
      expect(t.stoppedBy, b).toBe('target');
      expect(t.windows!.length, b).toBeGreaterThanOrEqual(7);
      expect(t.throughput?.low, b).not.toBeNull();
      const hit = t.curve!.find((p) => p.accuracy >= 0.3)!;
      expect(t.timeToTarget, b).toEqual({ accuracy: hit.accuracy, epoch: hit.epoch, seconds: hit.seconds });
      // The window in which the curve first reached 30%: before the last one, the backend trained
      // on to the minimum window count (the usual case); in the last one it stopped at once.
      let steps = 0;
      const hitWindow = t.windows!.findIndex((w) => (steps += w.steps) >= hit.steps);
      if (hitWindow < t.windows!.length - 1) {
        expect(t.windows!.length, b).toBe(7);
        expect(t.budget.reason, b).toMatch(/stopped on reaching 30% .*reached in window \d+; trained on to 7 windows for throughput intervals/);
      } else {
        expect(hit.steps, b).toBe(t.totalSteps);
      }
    }
    expect(readFileSync(join(tmp, 'early-target', 'report.md'), 'utf8')).toMatch(/not before 7 training windows/);
    if (torchAvailable) {
      const train = report.comparisons!.rows.find((c) => c.backend === 'plain' && c.metric === 'train')!;
      expect(train.ratio?.low).not.toBeNull();
    }
  });
});

describe('a PyTorch on the generic reference BLAS', () => {
  const REFERENCE_BLAS = '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3';
  it.runIf(torchAvailable && existsSync(REFERENCE_BLAS))('is detected in the real process: the CLI warns and the report header says the column understates PyTorch', async () => {
    // The loader searches this folder first, so the Python process really maps the reference BLAS.
    const libdir = mkdtempSync(join(tmp, 'refblas-'));
    symlinkSync(realpathSync(REFERENCE_BLAS), join(libdir, 'libblas.so.3'));
    const r = await run(['run', '--backends', 'plain,pytorch', ...TINY, '--out', 'refblas'], { LD_LIBRARY_PATH: libdir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/warning: .*generic reference BLAS.*the PyTorch column understates PyTorch/);
    const report = readJson(join(tmp, 'refblas', 'report.json'));
    const torch = report.results.find((x) => x.backend === 'pytorch')!;
    expect((torch.build as { blas: { kind: string } }).blas.kind).toBe('reference');
    const md = readFileSync(join(tmp, 'refblas', 'report.md'), 'utf8');
    expect(md).toMatch(/\*\*Warning:\*\* pytorch: .*generic reference BLAS.*apt-get install libopenblas0-pthread/);
    expect(readFileSync(join(tmp, 'refblas', 'report.html'), 'utf8')).toMatch(/class="warning"/);
  });
});
