/** `lenet-bench compare A B`: two reports side by side, with B/A ratios per backend. */
import type { BackendResult, Report } from '../run/types.js';
import { table } from '../format.js';

export interface CompareRow {
  backend: string;
  trainIpsA: number | null;
  trainIpsB: number | null;
  trainRatio: number | null;
  accuracyA: number | null;
  accuracyB: number | null;
  b1P50A: number | null;
  b1P50B: number | null;
  b1Ratio: number | null;
  b256IpsA: number | null;
  b256IpsB: number | null;
  b256Ratio: number | null;
  maxAbsLogitDiffA: number | null;
  maxAbsLogitDiffB: number | null;
}

const r = (b: number | null, a: number | null) => (a !== null && b !== null && a > 0 && b > 0 ? b / a : null);

function pick(rs: BackendResult | undefined) {
  return {
    train: rs?.training?.imagesPerSecond ?? null,
    acc: rs?.evaluation?.accuracy ?? null,
    b1: rs?.inference?.batch1.p50Ms ?? null,
    b256: rs?.inference?.batch256.imagesPerSecond ?? null,
    agree: rs?.agreement?.maxAbsLogitDiff ?? null,
  };
}

export function compareReports(a: Report, b: Report): CompareRow[] {
  const names = [...new Set([...a.results.map((x) => x.backend), ...b.results.map((x) => x.backend)])];
  return names.map((backend) => {
    const pa = pick(a.results.find((x) => x.backend === backend));
    const pb = pick(b.results.find((x) => x.backend === backend));
    return {
      backend,
      trainIpsA: pa.train,
      trainIpsB: pb.train,
      trainRatio: r(pb.train, pa.train),
      accuracyA: pa.acc,
      accuracyB: pb.acc,
      b1P50A: pa.b1,
      b1P50B: pb.b1,
      b1Ratio: r(pb.b1, pa.b1),
      b256IpsA: pa.b256,
      b256IpsB: pb.b256,
      b256Ratio: r(pb.b256, pa.b256),
      maxAbsLogitDiffA: pa.agree,
      maxAbsLogitDiffB: pb.agree,
    };
  });
}

const n = (v: number | null, d = 0) => (v === null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const x = (v: number | null) => (v === null ? '–' : `${v.toFixed(2)}×`);
const p = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);

function describe(tag: string, file: string, rep: Report): string {
  const c = rep.config;
  const e = rep.environment;
  return `${tag}: ${file}\n   ${c.modelSpec.name} / ${c.dataset}, ${c.profile}, seed ${c.seed}, ${rep.status}, ${rep.createdAt}; ${e.cpuModel}, ${e.cores} cores, Node ${e.node}, threads ${e.threads ?? 'default'}`;
}

export function formatComparison(a: Report, fileA: string, b: Report, fileB: string): string {
  const rows = compareReports(a, b);
  const warnings: string[] = [];
  if (a.config.modelSpec.name !== b.config.modelSpec.name || a.config.dataset !== b.config.dataset) warnings.push('note: the reports are for different models/datasets');
  if (a.config.profile !== b.config.profile) warnings.push('note: the reports use different profiles (training budgets differ)');
  return [
    describe('A', fileA, a),
    describe('B', fileB, b),
    ...warnings,
    '',
    table(
      ['backend', 'train img/s A', 'B', 'B/A', 'test acc A', 'B', 'b1 p50 ms A', 'B', 'B/A', 'b256 img/s A', 'B', 'B/A', 'max|Δlogit| A', 'B'],
      rows.map((row) => [
        row.backend,
        n(row.trainIpsA),
        n(row.trainIpsB),
        x(row.trainRatio),
        p(row.accuracyA),
        p(row.accuracyB),
        n(row.b1P50A, 3),
        n(row.b1P50B, 3),
        x(row.b1Ratio),
        n(row.b256IpsA),
        n(row.b256IpsB),
        x(row.b256Ratio),
        row.maxAbsLogitDiffA === null ? '–' : row.maxAbsLogitDiffA.toExponential(1),
        row.maxAbsLogitDiffB === null ? '–' : row.maxAbsLogitDiffB.toExponential(1),
      ]),
    ),
    '',
    'B/A > 1: B has more throughput (img/s) or more latency (ms) than A.',
  ].join('\n');
}
