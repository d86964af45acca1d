// `lenet-bench browser`: browser rows merged into a real run's report.json stay valid against the
// schema (merge unit, always), and the whole path — static server, Chromium through
// playwright-core, the page's backends, merge, re-render — end to end when Chromium and the
// built page (apps/web/dist, `pnpm --filter @lenet/web build`) are present.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeBrowserRun, agreementReference } from '../src/browser/merge.js';
import type { BrowserInfo, BrowserResult, BrowserRun } from '../src/browser/types.js';
import { validateReport } from '../src/report/schema.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { Report } from '../src/run/types.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'dist', 'cli.js');
const webDist = join(here, '..', '..', 'web', 'dist', 'index.html');
const tmp = mkdtempSync(join(tmpdir(), 'lenet-browser-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function cliRun(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...process.env, INIT_CWD: tmp, CI: '1' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const readReport = (dir: string) => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Report;

describe('lenet-bench browser', () => {
  const dir = join(tmp, 'run');
  let report: Report;

  beforeAll(() => {
    const r = cliRun(['run', '--backends', 'plain', '--limit', '300', '--train-steps', '2', '--inference-seconds', '0.2', '--agreement-images', '20', '--no-torch', '--out', 'run']);
    expect(r.code, r.stderr).toBe(0);
    report = readReport(dir);
  });

  it('usage: needs weights when the report has none to offer', () => {
    const r = cliRun(['browser']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--weights <file.safetensors\|.onnx> is required/);
  });

  it('merges page results as schema-valid rows tagged with the browser; unavailable ones become notes', () => {
    const latency = (batchSize: number, ms: number) => ({ batchSize, p50Ms: ms, p99Ms: ms * 2, meanMs: ms, minMs: ms / 2, maxMs: ms * 3, madMs: ms / 10, samplesCount: 10, imagesPerSecond: batchSize / (ms / 1000), samplesMs: [ms / 2, ms, ms * 3] });
    const ref = agreementReference(JSON.parse(readFileSync(join(dir, 'agreement', 'reference.json'), 'utf8')), 10);
    const base = { family: 'plain', package: '@lenet/backend-plain', where: 'web worker', description: 'd', versions: { browser: 'Chromium 1.2.3.4', x: '1' }, threads: 1, startedAt: new Date().toISOString(), wallSeconds: 1 } as const;
    const results: BrowserResult[] = [
      { ...base, id: 'plain-wasm', backend: 'plain', status: 'ok', reason: null, phase: null, runtime: 'plain 0.1.0', evaluation: { ...report.results[0]!.evaluation! }, inference: { tool: 't', batch1: latency(1, 0.1), batch256: latency(256, 20) }, agreementLogits: Array.from(ref.logits) },
      { ...base, id: 'tfjs-webgl', backend: 'tfjs-webgl', status: 'unavailable', reason: 'not installed', phase: null, runtime: null, evaluation: null, inference: null, agreementLogits: null },
      { ...base, id: 'plain-js', backend: 'plain-js', status: 'error', reason: 'boom', phase: 'session', runtime: null, evaluation: null, inference: null, agreementLogits: null },
    ];
    const run: BrowserRun = { browser: 'Chromium 1.2.3.4', userAgent: 'HeadlessChrome/1.0.0.0', crossOriginIsolated: true, hardwareConcurrency: 2, weights: { source: '/lenet-weights/default', model: 'lenet5', params: 61706, format: 'safetensors' }, dataset: 'fashion-mnist', limit: 300, testCount: 300, inferenceSeconds: 0.2, startedAt: base.startedAt, finishedAt: base.startedAt, results };
    const browser: BrowserInfo = { name: 'Chromium', version: '1.2.3.4', executable: '/usr/bin/chromium', headless: true, args: ['--headless'] };
    const merged = mergeBrowserRun(report, run, browser, 'agreement/weights.safetensors', ref);
    validateReport(merged, 'merged');
    const rows = merged.results.filter((r) => r.backend.endsWith('@ Chromium 1.2.3.4'));
    expect(rows.map((r) => [r.backend, r.status])).toEqual([['plain-wasm @ Chromium 1.2.3.4', 'ok'], ['plain-js @ Chromium 1.2.3.4', 'error']]);
    expect(rows[0]!.versions).toEqual({ x: '1', chromium: '1.2.3.4' });
    expect(rows[0]!.agreement).toMatchObject({ images: 20, maxAbsLogitDiff: 0, identicalCount: 20 });
    expect(merged.errors).toContainEqual({ backend: 'plain-js @ Chromium 1.2.3.4', phase: 'session', message: 'boom' });
    expect(merged.notes.some((n) => n.includes('tfjs-webgl unavailable: not installed'))).toBe(true);
    expect(merged.results.length).toBe(report.results.length + 2);
    // Merging the same browser version again replaces its rows and notes instead of adding more.
    const twice = mergeBrowserRun(merged, run, browser, 'agreement/weights.safetensors', ref);
    expect(twice.results.length).toBe(merged.results.length);
    expect(twice.notes.length).toBe(merged.notes.length);
    expect(renderMarkdown(merged)).toContain('| plain-wasm @ Chromium 1.2.3.4 |');
  });

  it('runs the page in Chromium and merges into report.json/md/html', (ctx) => {
    if (!existsSync('/usr/bin/chromium')) return ctx.skip('/usr/bin/chromium is not installed (Debian package chromium)');
    if (!existsSync(webDist)) return ctx.skip('apps/web/dist is not built (pnpm --filter @lenet/web build)');
    const r = cliRun(['browser', '--report', 'run', '--backends', 'plain-wasm,ort-web-wasm,tfjs-webgl', '--inference-seconds', '0.2']);
    expect(r.code, r.stderr).toBe(0);
    const merged = readReport(dir);
    const rows = merged.results.filter((x) => / @ Chromium \d+\.\d+\.\d+\.\d+$/.test(x.backend));
    expect(rows.map((x) => x.backend.split(' @ ')[0])).toEqual(['plain-wasm', 'ort-web-wasm']);
    const node = merged.results.find((x) => x.backend === 'plain')!;
    for (const row of rows) {
      expect(row.status).toBe('ok');
      // Same shared weights, same 300 test images: the same accuracy as plain in Node.
      expect(row.evaluation!.count).toBe(node.evaluation!.count);
      expect(row.evaluation!.accuracy).toBe(node.evaluation!.accuracy);
      expect(row.agreement!.identicalPredictions).toBe(1);
    }
    expect(merged.notes.some((n) => /tfjs-webgl unavailable/.test(n))).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('plain-wasm @ Chromium');
    expect(statSync(join(dir, 'browser.png')).size).toBeGreaterThan(30_000);
    expect(r.stdout).toMatch(/merged into .*report\.json/);
  });
});
