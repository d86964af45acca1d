/**
 * `lenet-bench compare A B`: two reports side by side. For each backend and figure (training
 * img/s, batch-1 p50 latency, batch-256 img/s) it prints B/A with a 95% interval computed from
 * both runs' windows; when the two runs' intervals overlap it says "no significant difference"
 * instead of a ratio, so run-to-run noise on a shared machine is not read as a change in the code.
 * Reports of schema 1 (one window per figure) get plain ratios, marked as such.
 */
import type { BackendResult, Report } from '../run/types.js';
import { computeComparisons, trainingWindowRates } from '../run/results.js';
import { independentRatioInterval, medianInterval, overlaps, type Interval } from '../stats/intervals.js';
import { table } from '../format.js';
import { BUSY_MACHINE_PCT, othersDuringRun } from '../run/noise.js';

export interface FigureComparison {
  a: number | null;
  b: number | null;
  /** B/A: median ratio with its 95% interval (independent bootstrap of both runs' windows). */
  ratio: Interval | null;
  /** 'no significant difference' when the two runs' intervals overlap. */
  verdict: 'higher' | 'lower' | 'no significant difference' | 'no intervals' | null;
}

export interface CompareRow {
  backend: string;
  train: FigureComparison;
  b1P50: FigureComparison;
  b256: FigureComparison;
  accuracyA: number | null;
  accuracyB: number | null;
  maxAbsLogitDiffA: number | null;
  maxAbsLogitDiffB: number | null;
  /** Kept for scripts written against the first version of this output. */
  trainRatio: number | null;
  b1Ratio: number | null;
  b256Ratio: number | null;
}

type Windows = { values: number[]; interval: Interval | null };

function windowsOf(r: BackendResult | undefined, figure: 'train' | 'b1' | 'b256'): Windows | null {
  if (!r || r.status !== 'ok') return null;
  if (figure === 'train') {
    if (!r.training) return null;
    const values = trainingWindowRates(r.training.windows ?? []).map((w) => w.ips);
    return values.length ? { values, interval: medianInterval(values) } : { values: [r.training.imagesPerSecond], interval: null };
  }
  if (!r.inference) return null;
  const n = figure === 'b1' ? 1 : 256;
  const ws = (r.inference.windows ?? []).filter((w) => w.batchSize === n);
  if (!ws.length) {
    const v = figure === 'b1' ? r.inference.batch1.p50Ms : r.inference.batch256.imagesPerSecond;
    return { values: [v], interval: null };
  }
  const values = ws.map((w) => (figure === 'b1' ? w.p50Ms : w.imagesPerSecond));
  return { values, interval: medianInterval(values) };
}

function compareFigure(a: Windows | null, b: Windows | null): FigureComparison {
  if (!a || !b) return { a: a ? medianInterval(a.values)?.estimate ?? null : null, b: b ? medianInterval(b.values)?.estimate ?? null : null, ratio: null, verdict: null };
  const ratio = independentRatioInterval(b.values, a.values);
  const am = medianInterval(a.values)!.estimate;
  const bm = medianInterval(b.values)!.estimate;
  let verdict: FigureComparison['verdict'];
  if (!a.interval || !b.interval || a.interval.low === null || b.interval.low === null) verdict = 'no intervals';
  else if (overlaps(a.interval, b.interval)) verdict = 'no significant difference';
  else verdict = bm > am ? 'higher' : 'lower';
  return { a: am, b: bm, ratio, verdict };
}

export function compareReports(a: Report, b: Report): CompareRow[] {
  const names = [...new Set([...a.results.map((x) => x.backend), ...b.results.map((x) => x.backend)])];
  return names.map((backend) => {
    const ra = a.results.find((x) => x.backend === backend);
    const rb = b.results.find((x) => x.backend === backend);
    const train = compareFigure(windowsOf(ra, 'train'), windowsOf(rb, 'train'));
    const b1P50 = compareFigure(windowsOf(ra, 'b1'), windowsOf(rb, 'b1'));
    const b256 = compareFigure(windowsOf(ra, 'b256'), windowsOf(rb, 'b256'));
    return {
      backend,
      train,
      b1P50,
      b256,
      accuracyA: ra?.evaluation?.accuracy ?? null,
      accuracyB: rb?.evaluation?.accuracy ?? null,
      maxAbsLogitDiffA: ra?.agreement?.maxAbsLogitDiff ?? null,
      maxAbsLogitDiffB: rb?.agreement?.maxAbsLogitDiff ?? null,
      trainRatio: train.ratio?.estimate ?? null,
      b1Ratio: b1P50.ratio?.estimate ?? null,
      b256Ratio: b256.ratio?.estimate ?? null,
    };
  });
}

const n = (v: number | null, d = 0) => (v === null ? '–' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const p = (v: number | null) => (v === null ? '–' : `${(v * 100).toFixed(2)}%`);

/** "no significant difference", or "1.23× [1.10–1.40]". */
export function describeFigure(f: FigureComparison): string {
  if (f.ratio === null) return '–';
  if (f.verdict === 'no significant difference') return 'no significant difference';
  const d = (v: number) => v.toFixed(v >= 10 ? 0 : 2);
  const iv = f.ratio.low !== null && f.ratio.high !== null ? ` [${d(f.ratio.low)}–${d(f.ratio.high)}]` : '';
  return `${d(f.ratio.estimate)}×${iv}${f.verdict === 'no intervals' ? ' (no intervals)' : ''}`;
}

function describe(tag: string, file: string, rep: Report): string {
  const c = rep.config;
  const e = rep.environment;
  return `${tag}: ${file}\n   ${c.modelSpec.name} / ${c.dataset}, ${c.profile}, seed ${c.seed}, ${rep.status}, ${rep.createdAt}; ${e.cpuModel}, ${e.cores} cores, Node ${e.node}, threads ${e.threads ?? 'default'}; schema v${rep.schemaVersion}`;
}

/** Per backend and figure: each run's ratio to its reference (paired windows) and whether the two intervals overlap. */
export interface RatioAgreement {
  backend: string;
  metric: string;
  a: Interval | null;
  b: Interval | null;
  overlap: boolean | null;
}

/**
 * Each run's ratios to the reference, recomputed from its windows with this version's interval
 * method (so a report written with an earlier method is judged like a new one); the stored
 * comparisons when the report has no windows.
 */
function ratioRows(r: Report) {
  return (r.schemaVersion >= 2 ? computeComparisons(r) : null)?.rows ?? r.comparisons?.rows ?? [];
}

export function compareRatios(a: Report, b: Report): RatioAgreement[] {
  const out: RatioAgreement[] = [];
  const rowsA = ratioRows(a);
  const rowsB = ratioRows(b);
  for (const ra of rowsA) {
    const rb = rowsB.find((x) => x.backend === ra.backend && x.metric === ra.metric);
    if (!rb) continue;
    const ok = (iv: Interval | null) => !!iv && iv.low !== null && iv.high !== null;
    out.push({ backend: ra.backend, metric: ra.metric, a: ra.ratio, b: rb.ratio, overlap: ok(ra.ratio) && ok(rb.ratio) ? overlaps(ra.ratio, rb.ratio) : null });
  }
  return out;
}

const ivs = (iv: Interval | null) => (!iv ? '–' : iv.low === null || iv.high === null ? `${iv.estimate.toFixed(2)}×` : `${iv.estimate.toFixed(2)}× [${iv.low.toFixed(2)}–${iv.high.toFixed(2)}]`);

export function formatComparison(a: Report, fileA: string, b: Report, fileB: string): string {
  const rows = compareReports(a, b);
  const ratios = compareRatios(a, b);
  const ratioBlock = ratios.length
    ? [
        '',
        `Ratios to the reference (${a.comparisons?.reference ?? 'pytorch'}), each from paired windows within its own run; "overlap: yes" = the two runs agree within their 95% intervals:`,
        table(['backend', 'figure', 'A', 'B', 'overlap'], ratios.map((r) => [r.backend, r.metric, ivs(r.a), ivs(r.b), r.overlap === null ? 'no intervals' : r.overlap ? 'yes' : 'NO'])),
        `${ratios.filter((r) => r.overlap).length} of ${ratios.filter((r) => r.overlap !== null).length} ratio intervals overlap.`,
      ]
    : [];
  const warnings: string[] = [];
  if (a.config.modelSpec.name !== b.config.modelSpec.name || a.config.dataset !== b.config.dataset) warnings.push('note: the reports are for different models/datasets');
  if (a.config.profile !== b.config.profile) warnings.push('note: the reports use different profiles (training budgets differ)');
  if (a.schemaVersion < 2 || b.schemaVersion < 2) warnings.push('note: a schema-1 report has one window per figure: its ratios carry no interval and cannot be tested for significance');
  for (const [name, r] of [['A', a], ['B', b]] as const) {
    const others = othersDuringRun(r.noise ?? []);
    if (others !== null && others > BUSY_MACHINE_PCT) warnings.push(`note: run ${name} was measured while other processes used ${others.toFixed(0)}% of the CPU; its ratios are shifted by contention, so a difference may be the machine, not the code`);
  }
  return [
    describe('A', fileA, a),
    describe('B', fileB, b),
    ...warnings,
    '',
    table(
      ['backend', 'train img/s A', 'B', 'B/A', 'b1 p50 ms A', 'B', 'B/A', 'b256 img/s A', 'B', 'B/A', 'test acc A', 'B', 'max|Δlogit| A', 'B'],
      rows.map((row) => [
        row.backend,
        n(row.train.a),
        n(row.train.b),
        describeFigure(row.train),
        n(row.b1P50.a, 3),
        n(row.b1P50.b, 3),
        describeFigure(row.b1P50),
        n(row.b256.a),
        n(row.b256.b),
        describeFigure(row.b256),
        p(row.accuracyA),
        p(row.accuracyB),
        row.maxAbsLogitDiffA === null ? '–' : row.maxAbsLogitDiffA.toExponential(1),
        row.maxAbsLogitDiffB === null ? '–' : row.maxAbsLogitDiffB.toExponential(1),
      ]),
    ),
    '',
    'B/A: ratio of the medians with a 95% bootstrap interval over both runs\u2019 windows (> 1: B has more throughput, or more latency for b1 p50).',
    '"no significant difference": the two runs\u2019 95% intervals overlap, so the difference is within run-to-run noise.',
    ...ratioBlock,
  ].join('\n');
}
