// The cold-start phase of `lenet-bench run` end to end through the built CLI: real backends in
// real fresh processes (two per backend), their phases present and in order, the report's table
// and chart. Speed is not asserted.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli-process.js';
import type { Report } from '../src/run/types.js';

const tmp = mkdtempSync(join(tmpdir(), 'lenet-cold-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const BACKENDS = ['plain', 'tfjs-cpu'];
const PROCESSES = 2;

describe('run --cold-starts 2', () => {
  let report: Report;
  let stderr = '';

  beforeAll(async () => {
    const r = await runCli(
      ['run', '--backends', BACKENDS.join(','), '--profile', 'smoke', '--limit', '600', '--train-steps', '3', '--inference-seconds', '0.3', '--agreement-images', '40', '--no-peaks', '--cold-starts', String(PROCESSES), '--out', 'cold'],
      tmp,
    );
    expect(r.code, r.stderr).toBe(0);
    stderr = r.stderr;
    report = JSON.parse(readFileSync(join(tmp, 'cold', 'report.json'), 'utf8')) as Report;
  }, 300_000);

  it('every backend row has one sample per fresh process, with every phase timed in order', () => {
    expect(report.config.coldStartProcesses).toBe(PROCESSES);
    const pids = new Set<number>();
    for (const b of BACKENDS) {
      const c = report.results.find((r) => r.backend === b)!.coldStart!;
      expect(c, b).toBeTruthy();
      expect(c.processes, b).toBe(PROCESSES);
      expect(c.samples, b).toHaveLength(PROCESSES);
      for (const s of c.samples) {
        expect(s.pid, b).toBeGreaterThan(0);
        expect(pids.has(s.pid!), `${b}: pid ${s.pid} reused`).toBe(false);
        pids.add(s.pid!);
        for (const v of [s.importMs, s.sessionMs, s.firstPredictMs, s.firstStepMs!]) expect(v, b).toBeGreaterThan(0);
        // Ends in ms since that process started: import, then session, predict, step.
        const e = s.endsMs!;
        expect(e.import, b).toBeGreaterThan(s.importMs);
        expect(e.session - e.import, b).toBeGreaterThanOrEqual(s.sessionMs);
        expect(e.firstPredict - e.session, b).toBeCloseTo(s.firstPredictMs, 6);
        expect(e.firstStep! - e.firstPredict, b).toBeCloseTo(s.firstStepMs!, 6);
      }
      expect(c.importMs.n, b).toBe(PROCESSES);
      expect(c.importMs.low, `${b}: no interval below 6 processes`).toBeNull();
      expect(c.toFirstPredictionMs.estimate, b).toBeCloseTo(Math.min(...c.samples.map((s) => s.importMs + s.sessionMs + s.firstPredictMs)) / 2 + Math.max(...c.samples.map((s) => s.importMs + s.sessionMs + s.firstPredictMs)) / 2, 6);
    }
    // The phase ran after the cells' work, announced on stderr.
    expect(stderr).toMatch(/cold start: 2 fresh processes per backend/);
  });

  it('report.md and report.html show the cold-start table and chart', () => {
    const md = readFileSync(join(tmp, 'cold', 'report.md'), 'utf8');
    expect(md).toMatch(/## Cold start\n/);
    for (const b of BACKENDS) expect(md).toMatch(new RegExp(`^\\| ${b} \\| [\\d.,]+ \\| [\\d.,]+ \\| [\\d.,]+ \\| [\\d.,]+ \\| [\\d.]+× \\| [\\d.,]+ \\|$`, 'm'));
    const html = readFileSync(join(tmp, 'cold', 'report.html'), 'utf8');
    expect(html).toContain('<section id="cold-start">');
    expect(html).toMatch(/id="chart-cold-start"[^>]*><figcaption>[^<]+<\/figcaption><svg/);
  });
});
