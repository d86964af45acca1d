/**
 * The report's tables as plain data (header + rows), shared by the Markdown and HTML renderers so
 * both always show the same numbers. Ratios compare backends measured in the same run.
 */
import type { BackendResult, Report } from '../run/types.js';

export interface Table {
  title: string;
  caption?: string;
  header: string[];
  /** Right-align these columns (numbers). */
  numeric: boolean[];
  rows: string[][];
}

const dash = '–';
const num = (n: number | null | undefined, d = 0) => (n === null || n === undefined || !Number.isFinite(n) ? dash : n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const pctS = (n: number | null | undefined, d = 1) => (n === null || n === undefined || !Number.isFinite(n) ? dash : `${(n * 100).toFixed(d)}%`);
const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a === null || a === undefined || b === null || b === undefined || !(a > 0) || !(b > 0) ? dash : `${(a / b).toFixed(a / b >= 10 ? 0 : a / b >= 1 ? 2 : 3)}×`;
export const seconds = (s: number | null | undefined) => {
  if (s === null || s === undefined || !Number.isFinite(s)) return dash;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${(s / 60).toFixed(1)} min`;
  return `${(s / 3600).toFixed(1)} h`;
};
const sci = (n: number | null | undefined) => (n === null || n === undefined ? 'non-finite' : n === 0 ? '0' : n.toExponential(2));

export function label(r: BackendResult): string {
  return r.kind === 'reference' ? `${r.backend} (reference)` : r.backend;
}

const torchOf = (report: Report) => report.results.find((r) => r.kind === 'reference' && r.status === 'ok') ?? report.results.find((r) => r.kind === 'reference');

function best(values: (number | null | undefined)[], pick: 'max' | 'min'): number | null {
  const ok = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
  if (!ok.length) return null;
  return pick === 'max' ? Math.max(...ok) : Math.min(...ok);
}

export function trainingTable(report: Report): Table {
  const rs = report.results.filter((r) => r.training);
  const fastest = best(rs.map((r) => r.training!.imagesPerSecond), 'max');
  const torch = torchOf(report)?.training?.imagesPerSecond;
  const target = report.config.targetAccuracy;
  return {
    title: 'Training',
    caption:
      `Same initial weights (seed ${report.config.seed}) and batch order on every backend; batch ${report.config.batchSize}, SGD lr ${report.config.lr}. ` +
      `img/s = images / training seconds (evaluation excluded). * = projected from the measured throughput (a budget cut training short).`,
    header: ['backend', 'epochs', 'train img/s', 'vs fastest', 'vs PyTorch', 'epoch time', `${report.config.epochs}-epoch time`, 'final val acc', 'val loss', `time to ${pctS(target, 0)}`, 'budget'],
    numeric: [false, true, true, true, true, true, true, true, true, true, false],
    rows: report.results.map((r) => {
      const t = r.training;
      if (!t) return [label(r), dash, dash, dash, dash, dash, dash, dash, dash, dash, r.trainingSkipped ?? (r.error ? `error (${r.error.phase})` : dash)];
      const last = t.epochs.at(-1);
      const mark = t.projected ? '*' : '';
      return [
        label(r),
        t.epochs.length ? `${t.epochs.length}${last?.partial ? ' (partial)' : ''}` : '0',
        num(t.imagesPerSecond),
        ratio(t.imagesPerSecond, fastest),
        ratio(t.imagesPerSecond, torch),
        seconds(t.epochSeconds) + mark,
        seconds(t.recipeSeconds) + mark,
        pctS(last?.valAccuracy, 2),
        num(last?.valLoss, 4),
        t.timeToTarget ? `${seconds(t.timeToTarget.seconds)} (epoch ${t.timeToTarget.epoch})` : 'not reached',
        t.budget.reason,
      ];
    }),
  };
}

export function epochsTable(report: Report): Table {
  const rows: string[][] = [];
  for (const r of report.results) {
    for (const e of r.training?.epochs ?? []) {
      rows.push([label(r), `${e.epoch}${e.partial ? '*' : ''}`, String(e.steps), num(e.trainLoss, 4), num(e.valLoss, 4), pctS(e.valAccuracy, 2), seconds(e.seconds), num(e.imagesPerSecond)]);
    }
  }
  return {
    title: 'Per-epoch metrics',
    caption: '* = partial epoch (cut by the budget).',
    header: ['backend', 'epoch', 'steps', 'train loss', 'val loss', 'val acc', 'train time', 'img/s'],
    numeric: [false, true, true, true, true, true, true, true],
    rows,
  };
}

export function evaluationTable(report: Report): Table {
  return {
    title: 'Test-set evaluation of the final weights',
    caption: 'Inference-only backends evaluate the shared agreement weights instead.',
    header: ['backend', 'images', 'accuracy', 'loss', 'eval time'],
    numeric: [false, true, true, true, true],
    rows: report.results.filter((r) => r.evaluation).map((r) => {
      const e = r.evaluation!;
      return [label(r), num(e.count), pctS(e.accuracy, 2), num(e.loss, 4), seconds(e.seconds)];
    }),
  };
}

export function inferenceTable(report: Report): Table {
  const rs = report.results.filter((r) => r.inference);
  const fastest256 = best(rs.map((r) => r.inference!.batch256.imagesPerSecond), 'max');
  const fastest1 = best(rs.map((r) => r.inference!.batch1.p50Ms), 'min');
  const torch = torchOf(report)?.inference;
  return {
    title: 'Inference',
    caption: `Batch 1 latency (p50, p99 of the per-call samples) and batch 256 throughput (256 / p50), measured for ~${report.config.inferenceSeconds} s per backend. Latency ratio: p50 / the lowest p50.`,
    header: ['backend', 'b1 p50 ms', 'b1 p99 ms', 'b1 vs lowest', 'b256 img/s', 'vs fastest', 'vs PyTorch', 'b256 p50 ms', 'samples b1/b256', 'peak RSS MB'],
    numeric: [false, true, true, true, true, true, true, true, true, true],
    rows: report.results.map((r) => {
      const i = r.inference;
      const rss = r.peakRssMB === null ? dash : num(r.peakRssMB);
      if (!i) return [label(r), dash, dash, dash, dash, dash, dash, dash, dash, rss];
      return [
        label(r),
        num(i.batch1.p50Ms, 3),
        num(i.batch1.p99Ms, 3),
        ratio(i.batch1.p50Ms, fastest1),
        num(i.batch256.imagesPerSecond),
        ratio(i.batch256.imagesPerSecond, fastest256),
        ratio(i.batch256.imagesPerSecond, torch?.batch256.imagesPerSecond),
        num(i.batch256.p50Ms, 2),
        `${i.batch1.samplesCount}/${i.batch256.samplesCount}`,
        rss,
      ];
    }),
  };
}

export function agreementTable(report: Report): Table {
  const a = report.agreement;
  return {
    title: 'Cross-backend agreement',
    caption: a
      ? `Every backend ran the same weights (${a.source}; ${a.weightsFile}) on ${a.images} test images (stratified, seed 0); compared with the float64 reference forward of @lenet/core.`
      : 'No shared weights yet (no backend finished training).',
    header: ['backend', 'images', 'max |Δlogit|', 'mean |Δlogit|', 'identical predictions'],
    numeric: [false, true, true, true, true],
    rows: report.results.filter((r) => r.agreement).map((r) => {
      const g = r.agreement!;
      return [label(r), num(g.images), sci(g.maxAbsLogitDiff), sci(g.meanAbsLogitDiff), `${pctS(g.identicalPredictions, 1)} (${g.identicalCount}/${g.images})`];
    }),
  };
}

export function errorsTable(report: Report): Table {
  return {
    title: 'Errors',
    header: ['backend', 'phase', 'message'],
    numeric: [false, false, false],
    rows: report.errors.map((e) => [e.backend, e.phase, e.message]),
  };
}

export function environmentLines(report: Report): string[] {
  const e = report.environment;
  const c = report.config;
  const lines = [
    `Machine: ${e.cpuModel}, ${e.cores} cores (${e.availableParallelism} available), ${Math.round(e.totalMemoryMB / 1024)} GiB RAM, ${e.os.platform} ${e.os.release} ${e.os.arch}; Node ${e.node} (V8 ${e.v8}); load average at start ${e.loadAverage.join(' / ')}.`,
    `Threads: ${e.threads ?? 'each backend\u2019s default'}. Data: ${c.dataset} (${c.dataSource.kind} ${c.dataSource.dir}, ${c.trainCount.toLocaleString('en-US')} train / ${c.testCount.toLocaleString('en-US')} test images${c.limit ? `, --limit ${c.limit}` : ''}).`,
    `Profile ${c.profile}: ${c.epochs} epoch(s), ${c.trainSeconds !== null ? `at most ${c.trainSeconds} s of training per backend` : c.maxProjectedSeconds !== null ? `full recipe unless projected over ${seconds(c.maxProjectedSeconds)} (then ${c.fallbackTrainSeconds} s)` : 'no budget'}${c.maxStepsPerEpoch ? `, at most ${c.maxStepsPerEpoch} steps per epoch` : ''}; batch ${c.batchSize}, lr ${c.lr}, seed ${c.seed}.`,
  ];
  if (e.python) lines.push(`PyTorch: ${e.python.note}.`);
  const runtimes = report.results.filter((r) => r.runtime).map((r) => `${r.backend}: ${r.runtime}${Object.keys(r.versions).length ? ` (${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
  if (runtimes.length) lines.push(`Runtimes: ${runtimes.join('; ')}.`);
  return lines;
}

export function allTables(report: Report): Table[] {
  const out = [trainingTable(report), evaluationTable(report), inferenceTable(report), agreementTable(report)];
  if (report.results.some((r) => (r.training?.epochs.length ?? 0) > 1)) out.splice(1, 0, epochsTable(report));
  if (report.errors.length) out.push(errorsTable(report));
  return out;
}
