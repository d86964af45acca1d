#!/usr/bin/env node
// Prints the README's cross-backend table from one run's report.json, so the published numbers
// are copied from a report, not typed: node scripts/results-table.mjs reports/<dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const arg = process.argv[2];
if (!arg) {
  console.error('usage: node scripts/results-table.mjs <report folder or report.json>');
  process.exit(2);
}
const report = JSON.parse(readFileSync(arg.endsWith('.json') ? arg : join(arg, 'report.json'), 'utf8'));
const n = (v, d = 0) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const iv = (x, d = 0) => (!x ? '–' : x.low === null ? n(x.estimate, d) : `${n(x.estimate, d)} [${n(x.low, d)}–${n(x.high, d)}]`);
const ratio = (x) => (!x ? '–' : x.low === null ? `${x.estimate.toFixed(2)}×` : `${x.estimate.toFixed(2)}× [${x.low.toFixed(2)}–${x.high.toFixed(2)}]`);
const cmp = (b, m) => report.comparisons?.rows.find((r) => r.backend === b && r.metric === m)?.ratio ?? null;
const secs = (s) => (s < 60 ? `${s.toFixed(0)} s` : `${(s / 60).toFixed(1)} min`);

const rows = [];
rows.push('| backend | train img/s [95% CI] | vs PyTorch | time to 70% | b1 p50 ms | b256 img/s [95% CI] | vs PyTorch | max abs Δlogit vs float64 |');
rows.push('|---|---:|---:|---:|---:|---:|---:|---|');
for (const r of report.results) {
  if (r.status !== 'ok') {
    rows.push(`| ${r.backend} | error: ${r.error?.message ?? '?'} | | | | | | |`);
    continue;
  }
  const ref = r.kind === 'reference';
  const t = r.training;
  const b1 = r.inference?.batches?.find((b) => b.batchSize === 1);
  const b256 = r.inference?.batches?.find((b) => b.batchSize === 256);
  const tta = t?.timeToTarget ? secs(t.timeToTarget.seconds) : t ? (t.stoppedBy === 'budget' ? `budget-limited (${secs(t.trainSeconds)}, best ${((Math.max(...(t.curve ?? []).map((p) => p.accuracy)) || 0) * 100).toFixed(0)}%)` : 'not reached') : 'inference only';
  rows.push(
    `| ${ref ? `${r.backend} (${r.runtime})` : `${r.backend} (${r.runtime})`} | ${t ? iv(t.throughput ?? null) : '–'} | ${ref ? '1.00×' : t ? ratio(cmp(r.backend, 'train')) : '–'} | ${tta} | ${iv(b1?.p50Ms ?? null, 3)} | ${iv(b256?.imagesPerSecond ?? null)} | ${ref ? '1.00×' : ratio(cmp(r.backend, 'infer-b256'))} | ${r.agreement?.maxAbsLogitDiff != null ? r.agreement.maxAbsLogitDiff.toExponential(0) : '–'} |`,
  );
}
const e = report.environment;
const torch = report.results.find((r) => r.kind === 'reference');
console.log(rows.join('\n'));
console.log();
console.log(`Machine: ${e.cpuModel}, ${e.cores} vCPU, Node ${e.node}; ${report.config.profile} profile, ${report.config.modelSpec.name}, seed ${report.config.seed}; run of ${report.createdAt}, ${secs(report.wallSeconds)} wall.`);
if (torch?.build) console.log(`PyTorch build: ${JSON.stringify(torch.build)}`);
if (report.peaks) console.log(`Peaks: native ${iv(report.peaks.native?.gflops ?? null, 1)} GFLOP/s, wasm SIMD 1 thread ${iv(report.peaks.wasm?.gflops ?? null, 1)} GFLOP/s`);
const noise = report.noise ?? [];
if (noise.length) console.log(`Noise: load ${Math.min(...noise.map((x) => x.load1))}–${Math.max(...noise.map((x) => x.load1))}, steal max ${Math.max(...noise.map((x) => x.stealPct ?? 0))}%`);
