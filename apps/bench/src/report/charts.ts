/**
 * The report's charts as Vega-Lite specs, rendered to SVG strings in Node (vega View.toSVG with
 * the 'none' renderer: no canvas, no browser), so report.html works offline with no scripts.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { Report } from '../run/types.js';
import { label } from './tables.js';

export interface Chart {
  id: string;
  title: string;
  /** Why the chart is empty (no data yet), else undefined. */
  empty?: string;
  spec?: TopLevelSpec;
}

const WIDTH = 420;
const base = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  width: WIDTH,
  background: 'white',
  config: { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 } },
} as const;

function backendOrder(report: Report): string[] {
  return report.results.map(label);
}

/** One colour per backend, by run order, the same in every chart (Tableau 10, then darker shades). */
const PALETTE = ['#4c78a8', '#f58518', '#e45756', '#72b7b2', '#54a24b', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac', '#1f3f66', '#8c4a06', '#7d1f1d', '#2f6b66', '#2b5a26'];
export const backendColours = (order: string[]) => order.map((_, i) => PALETTE[i % PALETTE.length]!);
/** Dash patterns that stay apart when curves lie on top of each other. */
const DASHES = [[1, 0], [8, 4], [2, 3], [12, 3, 2, 3], [4, 4], [1, 5], [10, 2], [6, 2, 2, 2, 2, 2]];

/** Ticks at 1, 2, 5 × 10^k inside [lo, hi] (log axes the eye can read: 1.28× does not look like 1.6×). */
export function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  // Over more than 3 decades 2 and 5 crowd the labels: decades only.
  const mantissas = Math.log10(hi / lo) > 3 ? [1] : [1, 2, 5];
  for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) for (const m of mantissas) {
    const v = m * 10 ** k;
    if (v >= lo * 0.999 && v <= hi * 1.001) out.push(Number(v.toPrecision(6)));
  }
  return out;
}

/** Ratio axis: powers of two (0.25, 0.5, 1, 2, 4, ...) around the data, always including 1. */
export function ratioDomain(values: number[]): { domain: [number, number]; ticks: number[] } {
  const ok = values.filter((v) => v > 0 && Number.isFinite(v));
  const lo = 2 ** Math.floor(Math.log2(Math.min(1, ...ok)));
  const hi = 2 ** Math.ceil(Math.log2(Math.max(1, ...ok)));
  // Over a wide range every other power of two (…, 1/16, 1/4, 1, 4, 16, …) so the labels fit.
  const step = Math.log2(hi / lo) > 8 ? 2 : 1;
  const ticks: number[] = [];
  for (let k = Math.log2(lo); k <= Math.log2(hi) + 1e-9; k++) if (k % step === 0) ticks.push(2 ** k);
  return { domain: [lo, hi], ticks };
}

/**
 * Groups backends whose curves coincide on the chart (same x at every point, y within 0.5% of the
 * y range): the chart says so in words ("3 backends, coinciding curves") and draws them apart
 * (dash patterns or offsets) so each stays visible.
 */
export function identicalGroups<T extends { backend: string }>(points: T[], x: (p: T) => number, y: (p: T) => number): string[][] {
  const byBackend = new Map<string, T[]>();
  for (const p of points) byBackend.set(p.backend, [...(byBackend.get(p.backend) ?? []), p]);
  const ys = points.map(y).filter(Number.isFinite);
  const tol = Math.max(1e-9, 0.005 * (Math.max(...ys) - Math.min(...ys)));
  const same = (a: T[], b: T[]) => a.length === b.length && a.every((p, i) => Math.abs(x(p) - x(b[i]!)) < 1e-9 && Math.abs(y(p) - y(b[i]!)) <= tol);
  const groups: string[][] = [];
  for (const [backend, ps] of byBackend) {
    const g = groups.find((members) => same(byBackend.get(members[0]!)!, ps));
    if (g) g.push(backend);
    else groups.push([backend]);
  }
  return groups.filter((g) => g.length > 1);
}

const coincideNote = (groups: string[][]) =>
  groups.length ? ` — ${groups.map((g) => `${g.length} backends (${g.join(', ')}), coinciding curves`).join('; ')}: drawn with different dashes` : '';

export function buildCharts(report: Report): Chart[] {
  const order = backendOrder(report);
  const colours = backendColours(order);
  const color = { field: 'backend', type: 'nominal', title: 'backend', scale: { domain: order, range: colours } } as const;
  /** Bars: the backend's colour, no legend (the axis names the backend). */
  const barColor = { field: 'backend', type: 'nominal', legend: null, scale: { domain: order, range: colours } } as const;
  // Same field and title as `color`: Vega-Lite merges the two into one legend (colour + dash).
  const dashByBackend = { field: 'backend', type: 'nominal', title: 'backend', scale: { domain: order, range: order.map((_, i) => DASHES[i % DASHES.length]!) } } as const;
  const epochs = report.results.flatMap((r) =>
    (r.training?.epochs ?? []).map((e) => ({ backend: label(r), epoch: e.epoch, valAccuracy: e.valAccuracy, trainLoss: e.trainLoss, valLoss: e.valLoss, partial: e.partial })),
  );
  // Backends with identical loss per epoch are drawn side by side (a small x offset each) so every one stays visible.
  const lossPoints = epochs.flatMap((e) => [
    { backend: e.backend, x: e.epoch, y: e.trainLoss },
    { backend: e.backend, x: e.epoch + 0.5, y: e.valLoss },
  ]).filter((p) => p.y !== null && Number.isFinite(p.y)) as { backend: string; x: number; y: number }[];
  const sameLoss = identicalGroups(lossPoints, (p) => p.x, (p) => p.y);
  const lossOffset = (backend: string) => {
    const g = sameLoss.find((x) => x.includes(backend));
    return g ? (g.indexOf(backend) - (g.length - 1) / 2) * Math.min(0.06, 0.4 / g.length) : 0;
  };
  const losses = epochs.map((e) => ({ ...e, epoch: e.epoch + lossOffset(e.backend) })).flatMap((e) => [
    { backend: e.backend, epoch: e.epoch, loss: e.trainLoss, kind: 'train loss' },
    { backend: e.backend, epoch: e.epoch, loss: e.valLoss, kind: 'val loss' },
  ]).filter((d) => d.loss !== null && Number.isFinite(d.loss));
  const trace = report.results.flatMap((r) => (r.training?.lossTrace ?? []).map((p) => ({ backend: label(r), images: p.images, loss: p.loss })));
  const training = report.results.filter((r) => r.training && r.training.imagesPerSecond > 0).map((r) => ({
    backend: label(r),
    ips: r.training!.imagesPerSecond,
    lo: r.training!.throughput?.low ?? r.training!.imagesPerSecond,
    hi: r.training!.throughput?.high ?? r.training!.imagesPerSecond,
    kind: r.training!.stoppedBy === 'budget' ? 'budget-limited' : r.training!.stoppedBy === 'target' ? 'stopped at the target' : 'whole recipe',
    text: `${Math.round(r.training!.imagesPerSecond).toLocaleString('en-US')} img/s${r.training!.stoppedBy === 'budget' ? ' (budget-limited)' : ''}`,
  }));
  const b = (r: (typeof report.results)[number], n: number) => r.inference?.batches?.find((x) => x.batchSize === n);
  const infer = report.results.filter((r) => r.inference).map((r) => ({
    backend: label(r),
    ips: r.inference!.batch256.imagesPerSecond,
    lo: b(r, 256)?.imagesPerSecond.low ?? r.inference!.batch256.imagesPerSecond,
    hi: b(r, 256)?.imagesPerSecond.high ?? r.inference!.batch256.imagesPerSecond,
    p50lo: b(r, 1)?.p50Ms.low ?? r.inference!.batch1.p50Ms,
    p50hi: b(r, 1)?.p50Ms.high ?? r.inference!.batch1.p50Ms,
    p50: r.inference!.batch1.p50Ms,
    p99: r.inference!.batch1.p99Ms,
    text: `${Math.round(r.inference!.batch256.imagesPerSecond).toLocaleString('en-US')} img/s`,
    latText: `p50 ${r.inference!.batch1.p50Ms.toFixed(3)} ms · p99 ${r.inference!.batch1.p99Ms.toFixed(3)} ms`,
  }));
  const maxEpoch = Math.max(1, ...epochs.map((e) => e.epoch));
  const epochAxis = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domain: [0.5, maxEpoch + 0.5], nice: false } };
  const barHeight = (n: number) => Math.max(60, n * 28);
  // Log-scale bars need an explicit positive baseline (decades around the data).
  const logDomain = (values: number[]): [number, number] => {
    const ok = values.filter((v) => v > 0 && Number.isFinite(v));
    if (!ok.length) return [1, 10];
    return [10 ** Math.floor(Math.log10(Math.min(...ok))), 10 ** Math.ceil(Math.log10(Math.max(...ok) * 3))];
  };
  const charts: Chart[] = [];
  const curves = report.results.flatMap((r) =>
    (r.training?.curve ?? []).map((p) => ({ backend: label(r), seconds: p.seconds, epochs: p.images / Math.max(1, report.config.trainCount), accuracy: p.accuracy })),
  );
  if (curves.length) {
    const sameCurves = identicalGroups(curves, (p) => p.epochs, (p) => p.accuracy);
    const target = report.config.targetAccuracy;
    const evalN = (report.config.evalImages ?? report.config.testCount).toLocaleString('en-US');
    charts.push({
      id: 'time-to-accuracy',
      title: `Time to accuracy: accuracy (${evalN} test images) vs training seconds; dashed: ${Math.round(target * 100)}% target`,
      spec: {
        ...base,
        height: 280,
        layer: [
          {
            data: { values: curves },
            mark: { type: 'line', point: { size: 18 }, strokeWidth: 2 },
            encoding: {
              x: { field: 'seconds', type: 'quantitative', title: 'training seconds (evaluations excluded)' },
              y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
              color,
            },
          },
          { data: { values: [{ target }] }, mark: { type: 'rule', strokeDash: [6, 4], color: '#888' }, encoding: { y: { field: 'target', type: 'quantitative' } } },
        ],
      } as TopLevelSpec,
    });
    charts.push({
      id: 'accuracy-vs-epochs',
      title: `Learning curves vs epochs trained (identical work)${coincideNote(sameCurves)}`,
      spec: {
        ...base,
        height: 260,
        data: { values: curves },
        mark: { type: 'line', point: { size: 18 }, strokeWidth: 2 },
        encoding: {
          x: { field: 'epochs', type: 'quantitative', title: 'epochs trained', axis: { format: '~g' } },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
          color,
          strokeDash: dashByBackend,
        },
      } as TopLevelSpec,
    });
  }
  const cmp = (report.comparisons?.rows ?? []).filter((r) => r.ratio && r.ratio.low !== null && r.ratio.high !== null);
  if (cmp.length) {
    const rows = cmp.map((r) => ({ backend: r.backend, metric: r.metric === 'train' ? 'training' : r.metric.replace('infer-', 'inference '), ratio: r.ratio!.estimate, lo: r.ratio!.low, hi: r.ratio!.high, verdict: r.verdict }));
    const axis = ratioDomain(rows.flatMap((r) => [r.lo!, r.hi!]));
    charts.push({
      id: 'ratios',
      title: `Ratio to ${report.comparisons!.reference} (paired windows, 95% interval; > 1 = faster; log scale, ticks ×2)`,
      spec: {
        ...base,
        height: Math.max(80, rows.length * 16),
        data: { values: rows },
        layer: [
          {
            // Colour = backend (as in every chart); the figure is the marker's shape.
            encoding: { y: { field: 'backend', type: 'nominal', title: null, sort: order }, yOffset: { field: 'metric', type: 'nominal' }, color: { ...barColor, scale: { domain: order, range: colours } } },
            layer: [
              { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'lo', type: 'quantitative', scale: { type: 'log', domain: axis.domain, nice: false }, axis: { values: axis.ticks, labelExpr: "datum.value < 0.25 ? '1/' + round(1 / datum.value) + '×' : format(datum.value, '~g') + '×'" }, title: `ratio to ${report.comparisons!.reference}` }, x2: { field: 'hi' } } },
              { mark: { type: 'point', filled: true, size: 50 }, encoding: { x: { field: 'ratio', type: 'quantitative' }, shape: { field: 'metric', type: 'nominal', title: 'figure', scale: { domain: [...new Set(rows.map((r) => r.metric))] } }, tooltip: [{ field: 'backend' }, { field: 'metric' }, { field: 'ratio', format: '.2f' }, { field: 'verdict' }] } },
            ],
          },
          { data: { values: [{ one: 1 }] }, mark: { type: 'rule', strokeDash: [4, 3], color: '#888' }, encoding: { x: { field: 'one', type: 'quantitative' } } },
        ],
      } as TopLevelSpec,
    });
  }
  if (report.config.threadCounts && report.config.threadCounts.length > 1) {
    const rows = report.results.flatMap((r) => {
      const m = /^(.+)@(\d+)t$/.exec(r.backend);
      if (!m) return [];
      const out: { backend: string; threads: number; figure: string; ips: number; lo: number; hi: number }[] = [];
      const t = r.training;
      if (t && t.imagesPerSecond > 0) out.push({ backend: m[1]!, threads: Number(m[2]), figure: 'training b128', ips: t.imagesPerSecond, lo: t.throughput?.low ?? t.imagesPerSecond, hi: t.throughput?.high ?? t.imagesPerSecond });
      const i = r.inference?.batches?.find((x) => x.batchSize === 256);
      if (i) out.push({ backend: m[1]!, threads: Number(m[2]), figure: 'inference b256', ips: i.imagesPerSecond.estimate, lo: i.imagesPerSecond.low ?? i.imagesPerSecond.estimate, hi: i.imagesPerSecond.high ?? i.imagesPerSecond.estimate });
      return out;
    });
    if (rows.length) {
      charts.push({
        id: 'thread-scaling',
        title: 'Thread scaling: throughput vs threads (images/s, log scale; solid: training, dashed: inference b256; bars: 95% interval)',
        spec: {
          ...base,
          height: 280,
          data: { values: rows },
          encoding: {
            x: { field: 'threads', type: 'quantitative', title: 'threads', axis: { tickMinStep: 1, format: 'd' } },
            color: { field: 'backend', type: 'nominal', title: 'backend', scale: { domain: [...new Set(rows.map((r) => r.backend))], range: [...new Set(rows.map((r) => r.backend))].map((b) => colours[order.findIndex((o) => o.startsWith(`${b}@`))] ?? '#888') } },
            detail: { field: 'figure' },
          },
          layer: [
            { mark: { type: 'line', point: true }, encoding: { y: { field: 'ips', type: 'quantitative', scale: { type: 'log' }, title: 'images / s' }, strokeDash: { field: 'figure', type: 'nominal', title: 'figure', scale: { domain: ['training b128', 'inference b256'], range: [[1, 0], [6, 4]] } } } },
            { mark: { type: 'rule' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
          ],
        } as TopLevelSpec,
      });
    }
  }
  const scaling = report.results.flatMap((r) => (r.inference?.batches ?? []).map((bs) => ({ backend: label(r), batch: bs.batchSize, ips: bs.imagesPerSecond.estimate, lo: bs.imagesPerSecond.low ?? bs.imagesPerSecond.estimate, hi: bs.imagesPerSecond.high ?? bs.imagesPerSecond.estimate })));
  if (new Set(scaling.map((d) => d.batch)).size > 2) {
    charts.push({
      id: 'batch-scaling',
      title: 'Inference throughput vs batch size (images/s, log-log; bars: 95% interval)',
      spec: {
        ...base,
        height: 260,
        data: { values: scaling },
        encoding: { x: { field: 'batch', type: 'quantitative', scale: { type: 'log' }, title: 'batch size' }, color },
        layer: [
          { mark: { type: 'line', point: true }, encoding: { y: { field: 'ips', type: 'quantitative', scale: { type: 'log' }, title: 'images / s' } } },
          { mark: { type: 'rule' }, encoding: { y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        ],
      } as TopLevelSpec,
    });
  }

  // Per-epoch accuracy only where no learning curve exists (older reports, runs without
  // evaluations inside epochs): the curves above show the same points and more.
  if (!curves.length) charts.push(
    epochs.length
      ? {
          id: 'accuracy',
          title: 'Validation accuracy per epoch',
          spec: {
            ...base,
            height: 260,
            data: { values: epochs },
            mark: { type: 'line', point: { size: 60 }, strokeWidth: 2 },
            encoding: {
              x: epochAxis,
              y: { field: 'valAccuracy', type: 'quantitative', title: 'validation accuracy', axis: { format: '.0%' }, scale: { domain: [0, 1] } },
              color,
              tooltip: [{ field: 'backend' }, { field: 'epoch' }, { field: 'valAccuracy', format: '.2%' }],
            },
          } as TopLevelSpec,
        }
      : { id: 'accuracy', title: 'Validation accuracy per epoch', empty: 'no training results yet' },
  );
  charts.push(
    losses.length
      ? {
          id: 'loss',
          title: `Loss per epoch (solid: train, dashed: validation)${sameLoss.length ? ` — ${sameLoss.map((g) => `${g.length} backends (${g.join(', ')}), coinciding losses`).join('; ')}: drawn side by side` : ''}`,
          spec: {
            ...base,
            height: 260,
            data: { values: losses },
            mark: { type: 'line', point: { size: 50 }, strokeWidth: 2 },
            encoding: {
              x: epochAxis,
              y: { field: 'loss', type: 'quantitative', title: 'mean cross-entropy', scale: { zero: false } },
              color,
              strokeDash: { field: 'kind', type: 'nominal', title: 'loss', scale: { domain: ['train loss', 'val loss'], range: [[1, 0], [6, 4]] }, legend: null },
              detail: { field: 'kind' },
            },
          } as TopLevelSpec,
        }
      : { id: 'loss', title: 'Loss per epoch', empty: 'no training results yet' },
  );
  if (trace.length) {
    const sameTrace = identicalGroups(trace, (p) => p.images, (p) => p.loss);
    charts.push({
      id: 'loss-trace',
      title: `Training loss vs images seen (mean of consecutive steps)${coincideNote(sameTrace)}`,
      spec: {
        ...base,
        height: 240,
        data: { values: trace },
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 'images', type: 'quantitative', title: 'images trained on', axis: { format: '~s' } },
          y: { field: 'loss', type: 'quantitative', title: 'training loss', scale: { zero: false } },
          color,
          strokeDash: dashByBackend,
        },
      } as TopLevelSpec,
    });
  }
  charts.push(
    training.length
      ? {
          id: 'train-throughput',
          title: 'Training throughput, batch 128 (images/s, log scale; line: 95% interval over windows)',
          spec: {
            ...base,
            height: barHeight(training.length),
            data: { values: training },
            encoding: {
              y: { field: 'backend', type: 'nominal', title: null, sort: order },
              x: { field: 'ips', type: 'quantitative', title: 'images / s (training)', scale: { type: 'log', domain: logDomain(training.map((d) => d.ips)), nice: false }, axis: { values: logTicks(...logDomain(training.map((d) => d.ips))), format: '~s' } },
            },
            layer: [
              { mark: { type: 'bar' }, encoding: { x2: { datum: logDomain(training.map((d) => d.ips))[0] }, color: barColor } },
              { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
              { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { x: { field: 'hi', type: 'quantitative' }, text: { field: 'text' } } },
            ],
          } as TopLevelSpec,
        }
      : { id: 'train-throughput', title: 'Training throughput', empty: 'no training results yet' },
  );
  charts.push(
    infer.length
      ? {
          id: 'infer-throughput',
          title: 'Inference throughput, batch 256 (images/s, log scale; line: 95% interval over windows)',
          spec: {
            ...base,
            height: barHeight(infer.length),
            data: { values: infer },
            encoding: {
              y: { field: 'backend', type: 'nominal', title: null, sort: order },
              x: { field: 'ips', type: 'quantitative', title: 'images / s (batch 256, from p50)', scale: { type: 'log', domain: logDomain(infer.map((d) => d.ips)), nice: false }, axis: { values: logTicks(...logDomain(infer.map((d) => d.ips))), format: '~s' } },
            },
            layer: [
              { mark: { type: 'bar' }, encoding: { x2: { datum: logDomain(infer.map((d) => d.ips))[0] }, color: barColor } },
              { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
              { mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 }, encoding: { x: { field: 'hi', type: 'quantitative' }, text: { field: 'text' } } },
            ],
          } as TopLevelSpec,
        }
      : { id: 'infer-throughput', title: 'Inference throughput', empty: 'no inference results yet' },
  );
  charts.push(
    infer.length
      ? {
          id: 'latency',
          title: 'Inference latency, batch 1 (bar: p50 with its 95% interval, tick: p99; ms, log scale)',
          spec: {
            ...base,
            height: barHeight(infer.length),
            data: { values: infer },
            encoding: { y: { field: 'backend', type: 'nominal', title: null, sort: order } },
            layer: [
              {
                mark: { type: 'bar' },
                encoding: {
                  color: barColor,
                  x: { field: 'p50', type: 'quantitative', title: 'ms per call (batch 1)', scale: { type: 'log', domain: logDomain(infer.flatMap((d) => [d.p50, d.p99 * 4])), nice: false }, axis: { values: logTicks(...logDomain(infer.flatMap((d) => [d.p50, d.p99 * 4]))), format: '~g' } },
                  x2: { datum: logDomain(infer.flatMap((d) => [d.p50, d.p99 * 4]))[0] },
                },
              },
              { mark: { type: 'rule', color: '#222', strokeWidth: 1.5 }, encoding: { x: { field: 'p50lo', type: 'quantitative' }, x2: { field: 'p50hi' } } },
              { mark: { type: 'tick', color: '#333', thickness: 2 }, encoding: { x: { field: 'p99', type: 'quantitative' } } },
              { mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 }, encoding: { x: { field: 'p99', type: 'quantitative' }, text: { field: 'latText' } } },
            ],
          } as TopLevelSpec,
        }
      : { id: 'latency', title: 'Inference latency', empty: 'no inference results yet' },
  );
  return charts;
}

/** Renders a Vega-Lite spec to a standalone SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const vg = compile(spec).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Cold start: per backend, the median phases stacked in order (import, session, first predict, first step), in ms. */
export function coldStartChart(report: Report): Chart | null {
  const rs = report.results.filter((r) => r.coldStart);
  if (!rs.length) return null;
  const phases = ['import', 'createSession', 'first predict', 'first train step'] as const;
  const data = rs.flatMap((r) => {
    const c = r.coldStart!;
    const ms = [c.importMs.estimate, c.sessionMs.estimate, c.firstPredictMs.estimate, c.firstStepMs?.estimate ?? 0];
    return phases.map((phase, i) => ({ backend: label(r), phase, order: i, ms: ms[i]! }));
  });
  const totals = rs.map((r) => {
    const c = r.coldStart!;
    const total = c.toFirstPredictionMs.estimate + (c.firstStepMs?.estimate ?? 0);
    const fmt = (v: number) => (v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
    return { backend: label(r), total, text: `first prediction ${fmt(c.toFirstPredictionMs.estimate)}${c.firstStepMs ? ` · + first step ${fmt(c.firstStepMs.estimate)}` : ''}` };
  });
  const order = rs.map(label);
  // Rows of `lenet-bench browser --cold-starts` ("<id> @ <browser>") sample fresh page documents.
  const pageRows = rs.some((r) => r.backend.includes(' @ '));
  return {
    id: 'cold-start',
    title: `Cold start in a fresh process${pageRows ? ' (browser rows: a fresh page document)' : ''} (medians of ${[...new Set(rs.map((r) => r.coldStart!.processes))].join('/')} ${pageRows ? 'samples' : 'processes'}, ms): import, createSession, first predict, first training step`,
    spec: {
      ...base,
      height: Math.max(60, rs.length * 28),
      encoding: { y: { field: 'backend', type: 'nominal', title: null, sort: order } },
      layer: [
        {
          data: { values: data },
          mark: { type: 'bar' },
          encoding: {
            x: { field: 'ms', type: 'quantitative', title: 'ms since the import began', stack: 'zero' },
            // Legend below: the labels at the bars' ends reach past the plot on the right.
            color: { field: 'phase', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'horizontal' }, scale: { domain: [...phases], range: ['#4c78a8', '#f58518', '#54a24b', '#b279a2'] } },
            order: { field: 'order', type: 'quantitative' },
          },
        },
        { data: { values: totals }, mark: { type: 'text', align: 'left', dx: 6, fontSize: 11 }, encoding: { x: { field: 'total', type: 'quantitative' }, text: { field: 'text' } } },
      ],
    } as TopLevelSpec,
  };
}
