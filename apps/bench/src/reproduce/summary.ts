/** Per-backend statistics, verdicts, text/markdown tables and the accuracy chart of a reproduce folder. */
import type { TopLevelSpec } from 'vega-lite';
import { table } from '../format.js';
import { describeAugment, describeRecipeOptimizer, describeSchedule, type Recipe } from './recipes.js';
import { describeEvaluation, type EvaluationSplit } from './data.js';
import { formatBand, meanInterval, stats, verdict, type MeanInterval, type Stats, type Verdict } from './stats.js';
import type { SeedRun } from './types.js';

/** Mean validation-accuracy curve of the PyTorch reference (REFERENCE.md), epochs 1..10. */
export const REFERENCE_CURVES: Record<string, number[]> = {
  d2l: [0.11, 0.1, 0.198, 0.468, 0.576, 0.654, 0.688, 0.699, 0.718, 0.73],
  modern: [0.806, 0.835, 0.859, 0.865, 0.867, 0.873, 0.881, 0.884, 0.885, 0.884],
};

export interface BackendSummary {
  backend: string;
  seeds: number[];
  finals: number[];
  stats: Stats | null;
  verdict: Verdict;
  failed: { seed: number; message: string }[];
  /** Median training throughput over the seeds (images/s). */
  imagesPerSecond: number | null;
  /** 95% Student-t confidence interval of the mean final accuracy (null below 2 seeds). Absent in older summaries. */
  ci95?: MeanInterval | null;
  /** Mean validation accuracy per epoch over the finished seeds (epochs every seed reached). */
  meanCurve?: { epoch: number; mean: number; n: number }[];
}

/**
 * "Same seeds, different backends": backends given the same seed do identical work (same init,
 * same batch order, same data), so their final accuracies should differ only by float rounding
 * amplified over the training run.
 */
export interface CrossBackend {
  backends: string[];
  seeds: { seed: number; finals: Record<string, number | null>; maxAbsDelta: number | null }[];
  /** Largest per-seed max |Δ accuracy| (seeds finished on at least two backends). */
  maxAbsDelta: number | null;
}

export interface ReproduceSummary {
  recipe: string;
  title: string;
  epochs: number;
  band: Recipe['band'];
  backends: BackendSummary[];
  runs: SeedRun[];
  /** Absent in older summaries. */
  crossBackend?: CrossBackend | null;
  /** The images every accuracy here is measured on (absent in older summaries: the test split). */
  evaluation?: EvaluationSplit;
}

/** What the accuracies are measured on, as a line under the recipe. */
export function evaluationLine(s: ReproduceSummary): string {
  return `accuracy measured on: ${describeEvaluation(s.evaluation)}`;
}

/** "validation" or "test", for column and axis titles. */
const evalWord = (s: ReproduceSummary) => (s.evaluation?.kind === 'validation' ? 'validation' : 'test');

const p2 = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${(x * 100).toFixed(2)}%`);

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(recipe: Recipe, epochs: number, backends: string[], runs: SeedRun[]): ReproduceSummary {
  const out: BackendSummary[] = backends.map((backend) => {
    const mine = runs.filter((r) => r.backend === backend).sort((a, b) => a.seed - b.seed);
    const ok = mine.filter((r) => r.status === 'ok' && r.finalAccuracy !== null);
    const finals = ok.map((r) => r.finalAccuracy!);
    return {
      backend,
      seeds: ok.map((r) => r.seed),
      finals,
      stats: stats(finals),
      verdict: verdict(recipe.band, finals),
      failed: mine.filter((r) => r.status !== 'ok').map((r) => ({ seed: r.seed, message: `${r.error?.phase ?? '?'}: ${r.error?.message ?? 'failed'}` })),
      imagesPerSecond: median(ok.map((r) => r.imagesPerSecond)),
      ci95: meanInterval(finals, 0.95),
      meanCurve: meanCurve(ok),
    };
  });
  return { recipe: recipe.name, title: recipe.title, epochs, band: recipe.band, backends: out, runs, crossBackend: crossBackend(out) };
}

/** Per epoch, the mean validation accuracy over the runs that reached it, while every run did. */
export function meanCurve(runs: SeedRun[]): { epoch: number; mean: number; n: number }[] {
  if (!runs.length) return [];
  const epochs = Math.min(...runs.map((r) => r.epochs.length));
  return Array.from({ length: epochs }, (_, i) => ({ epoch: i + 1, mean: runs.reduce((a, r) => a + r.epochs[i]!.valAccuracy, 0) / runs.length, n: runs.length }));
}

/** Final accuracy of every backend per seed, and the largest difference between backends per seed. */
export function crossBackend(backends: BackendSummary[]): CrossBackend | null {
  const withResults = backends.filter((b) => b.finals.length);
  if (withResults.length < 2) return null;
  const seeds = [...new Set(withResults.flatMap((b) => b.seeds))].sort((a, b) => a - b);
  const rows = seeds.map((seed) => {
    const finals: Record<string, number | null> = {};
    for (const b of withResults) {
      const i = b.seeds.indexOf(seed);
      finals[b.backend] = i >= 0 ? b.finals[i]! : null;
    }
    const got = Object.values(finals).filter((v): v is number => v !== null);
    return { seed, finals, maxAbsDelta: got.length >= 2 ? Math.max(...got) - Math.min(...got) : null };
  });
  const deltas = rows.map((r) => r.maxAbsDelta).filter((v): v is number => v !== null);
  return { backends: withResults.map((b) => b.backend), seeds: rows, maxAbsDelta: deltas.length ? Math.max(...deltas) : null };
}

export function bandLine(recipe: Recipe): string {
  const b = recipe.band;
  if (b.kind === 'goal') return `goal: final accuracy ${formatBand(b)} (${b.source})`;
  const r = b.reference!;
  return `reference band: ${p2(r.mean)} ± ${p2(r.sd)} over ${r.seeds} seeds (min ${p2(r.minMax[0])}, max ${p2(r.minMax[1])}); inside = ${formatBand(b)} (${b.source})`;
}

export function recipeLine(recipe: Recipe, epochs: number): string {
  return `${recipe.modelName} on ${recipe.dataset}, ${epochs} epochs, batch ${recipe.batchSize}, ${recipe.optimizer ? `${describeRecipeOptimizer(recipe)}, ` : ''}${describeSchedule(recipe.schedule)}, augmentation: ${describeAugment(recipe.augment)}, Xavier-uniform init`;
}

export function seedRows(s: ReproduceSummary): string[][] {
  return s.runs
    .slice()
    .sort((a, b) => (a.backend === b.backend ? a.seed - b.seed : a.backend < b.backend ? -1 : 1))
    .map((r) => [
      r.backend,
      String(r.seed),
      r.status === 'ok' ? p2(r.finalAccuracy) : `failed (${r.error?.phase ?? '?'})`,
      r.bestAccuracy !== null ? `${p2(r.bestAccuracy)} (${r.bestEpoch})` : '-',
      r.finalLoss !== null ? r.finalLoss.toFixed(4) : '-',
      r.trainSeconds ? r.trainSeconds.toFixed(0) : '-',
      r.imagesPerSecond ? Math.round(r.imagesPerSecond).toLocaleString('en-US') : '-',
    ]);
}

export const SEED_HEADER = ['backend', 'seed', 'final acc', 'best (epoch)', 'final val loss', 'train s', 'img/s'];
export const SUMMARY_HEADER = ['backend', 'seeds', 'mean ± sd', '95% CI of mean', 'min – max', 'band', 'verdict'];

/** The per-seed table's header, naming the split the accuracy is measured on. */
export function seedHeader(s: ReproduceSummary): string[] {
  if (evalWord(s) !== 'validation') return SEED_HEADER;
  return SEED_HEADER.map((h) => (h === 'final acc' ? 'final valid. acc' : h === 'final val loss' ? 'valid. loss' : h));
}

export function summaryRows(s: ReproduceSummary): string[][] {
  return s.backends.map((b) => [
    b.backend,
    String(b.stats?.n ?? 0) + (b.failed.length ? ` (+${b.failed.length} failed)` : ''),
    !b.stats ? '-' : b.stats.n > 1 ? `${p2(b.stats.mean)} ± ${p2(b.stats.sd)}` : `${p2(b.stats.mean)} (1 seed, no sd)`,
    b.ci95 ? `${p2(b.ci95.low)} – ${p2(b.ci95.high)}` : '-',
    b.stats ? `${p2(b.stats.min)} – ${p2(b.stats.max)}` : '-',
    formatBand(s.band),
    b.verdict.verdict === 'no results' ? 'no results' : `${b.verdict.verdict.toUpperCase()} (${b.verdict.seedsInside}/${b.verdict.seeds} seeds inside)`,
  ]);
}

/** "Same seeds, different backends": header and rows (null with fewer than two backends with results). */
export function crossBackendTable(s: ReproduceSummary): { header: string[]; rows: string[][] } | null {
  const c = s.crossBackend;
  if (!c) return null;
  const pp = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(2)} pp`);
  return {
    header: ['seed', ...c.backends, 'max |Δ acc|'],
    rows: c.seeds.map((r) => [String(r.seed), ...c.backends.map((b) => p2(r.finals[b])), pp(r.maxAbsDelta)]),
  };
}

const CROSS_TITLE = 'Same seeds, different backends (identical init, batch order and data; final accuracy):';

export function renderText(recipe: Recipe, s: ReproduceSummary): string {
  const cross = crossBackendTable(s);
  return [
    `reproduce ${recipe.name}: ${recipe.title}`,
    `recipe: ${recipeLine(recipe, s.epochs)}`,
    ...(recipe.chosenBy ? [`hyper-parameters: ${recipe.chosenBy}`] : []),
    ...(s.evaluation?.kind === 'validation' ? [evaluationLine(s)] : []),
    bandLine(recipe),
    '',
    table(seedHeader(s), seedRows(s)),
    '',
    table(SUMMARY_HEADER, summaryRows(s)),
    ...(cross ? ['', CROSS_TITLE, table(cross.header, cross.rows)] : []),
    ...s.backends.flatMap((b) => b.failed.map((f) => `${b.backend} seed ${f.seed} failed: ${f.message}`)),
    ...torchWarnings(s),
  ].join('\n');
}

/** One line per backend: the runtime its first finished run reported (for PyTorch, the build facts read from the process). */
function runtimeLines(s: ReproduceSummary): string[] {
  return s.backends.flatMap((b) => {
    const r = s.runs.find((x) => x.backend === b.backend && x.status === 'ok' && x.runtime);
    return r ? [`- ${b.backend}: ${r.runtime}`] : [];
  });
}

/** The distinct build warnings of the PyTorch runs (e.g. reference BLAS), to print under the tables. */
function torchWarnings(s: ReproduceSummary): string[] {
  // One line per kind of warning: the runs' measured GFLOP/s differ, the problem does not.
  const torchRuns = s.runs.filter((r) => r.torchBuild);
  const byKind = new Map<string, { first: string; count: number }>();
  for (const w of torchRuns.map((r) => r.torchWarning).filter((x): x is string => !!x)) {
    const key = w.replace(/[\d.]+ GFLOP\/s/g, 'N GFLOP/s');
    const hit = byKind.get(key);
    if (hit) hit.count++;
    else byKind.set(key, { first: w, count: 1 });
  }
  return [...byKind.values()].map((k) => `pytorch (${k.count} of ${torchRuns.length} runs): ${k.first}`);
}

export function mdTable(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${header.map(esc).join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(recipe: Recipe, s: ReproduceSummary): string {
  const epochCols = Array.from({ length: s.epochs }, (_, i) => String(i + 1));
  const curves = s.runs
    .filter((r) => r.epochs.length)
    .map((r) => [`${r.backend} seed ${r.seed}`, ...epochCols.map((_, i) => (r.epochs[i] ? (r.epochs[i]!.valAccuracy * 100).toFixed(1) : ''))]);
  const ref = REFERENCE_CURVES[recipe.name];
  if (ref && s.epochs === ref.length) curves.push(['PyTorch mean (REFERENCE.md)', ...ref.map((v) => (v * 100).toFixed(1))]);
  return [
    `### ${recipe.name}: ${recipe.title}`,
    '',
    `Recipe: ${recipeLine(recipe, s.epochs)}. ${bandLine(recipe)}.`,
    ...(recipe.chosenBy ? ['', `Hyper-parameters: ${recipe.chosenBy}.`] : []),
    ...(s.evaluation?.kind === 'validation' ? ['', `${evaluationLine(s).replace(/^a/, 'A')}.`] : []),
    ...(runtimeLines(s).length ? ['', 'Runtimes (first finished run of each backend):', '', ...runtimeLines(s)] : []),
    '',
    mdTable(seedHeader(s), seedRows(s)),
    '',
    mdTable(SUMMARY_HEADER, summaryRows(s)),
    '',
    '95% CI: Student-t interval of the mean final accuracy over the seeds (n - 1 degrees of freedom).',
    ...(crossBackendTable(s) ? ['', CROSS_TITLE, '', mdTable(crossBackendTable(s)!.header, crossBackendTable(s)!.rows)] : []),
    ...torchWarnings(s).flatMap((w) => ['', `> ${w}`]),
    '',
    `${s.evaluation?.kind === 'validation' ? `Accuracy (%) per epoch on the ${describeEvaluation(s.evaluation)}` : 'Validation (test split) accuracy (%) per epoch'}:`,
    '',
    mdTable(['run', ...epochCols], curves),
  ].join('\n');
}

/**
 * One line per backend: its mean validation accuracy per epoch over its finished seeds; the band
 * shaded; the REFERENCE.md PyTorch mean curve (10 seeds, another machine) dashed.
 */
export function accuracyChart(recipe: Recipe, s: ReproduceSummary): TopLevelSpec | null {
  const points = s.backends.flatMap((b) => {
    const curve = b.meanCurve ?? meanCurve(s.runs.filter((r) => r.backend === b.backend && r.status === 'ok'));
    const label = `${b.backend} (mean of ${b.stats?.n ?? 0} seed${b.stats?.n === 1 ? '' : 's'})`;
    return curve.map((c) => ({ run: label, epoch: c.epoch, acc: c.mean }));
  });
  if (!points.length) return null;
  const ref = REFERENCE_CURVES[recipe.name];
  const refPoints = ref ? ref.map((acc, i) => ({ epoch: i + 1, acc, run: 'PyTorch mean' })) : [];
  const lows = [...points.map((p) => p.acc), recipe.band.low];
  const yMin = Math.max(0, Math.floor((Math.min(...lows.filter((v) => v > 0.3)) - 0.02) * 50) / 50);
  const yMax = Math.min(1, Math.ceil((Math.max(...points.map((p) => p.acc), recipe.band.kind === 'band' ? recipe.band.high : recipe.band.low) + 0.01) * 50) / 50);
  const maxEpoch = Math.max(...points.map((p) => p.epoch));
  const y = { field: 'acc', type: 'quantitative', title: s.evaluation?.kind === 'validation' ? 'accuracy on the validation holdout' : 'validation (test) accuracy', axis: { format: '.1%' }, scale: { domain: [yMin, yMax] } } as const;
  const x = { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { domain: [1, maxEpoch] } } as const;
  const bandLabel = recipe.band.kind === 'band' ? `PyTorch band ${formatBand(recipe.band)}` : `goal ${formatBand(recipe.band)}`;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `${recipe.name}: ${recipe.modelName} on ${recipe.dataset}, mean accuracy per backend`, subtitle: `shaded: ${bandLabel}; identical curves overlap` },
    width: 460,
    height: 280,
    background: 'white',
    config: {
      font: 'sans-serif',
      axis: { labelFontSize: 11, titleFontSize: 12 },
      legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, titleLimit: 460, orient: 'bottom', direction: 'vertical' },
    },
    layer: [
      {
        data: { values: [{ lo: Math.max(recipe.band.low, yMin), hi: Math.min(recipe.band.high, yMax) }] },
        mark: { type: 'rect', color: '#2ca02c', opacity: 0.15, clip: true },
        encoding: { y: { field: 'lo', type: 'quantitative', scale: { domain: [yMin, yMax] } }, y2: { field: 'hi' } },
      },
      ...(refPoints.length
        ? [{ data: { values: refPoints }, mark: { type: 'line' as const, color: '#555', strokeDash: [6, 4], clip: true }, encoding: { x, y } }]
        : []),
      {
        data: { values: points },
        mark: { type: 'line', point: { size: 30 }, strokeWidth: 1.6, clip: true },
        encoding: { x, y, color: { field: 'run', type: 'nominal', title: refPoints.length ? 'backend (dashed: REFERENCE.md PyTorch)' : 'backend' } },
      },
    ],
  } as TopLevelSpec;
}
