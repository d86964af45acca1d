/**
 * The report's tables as plain data (header + rows), shared by the Markdown and HTML renderers so
 * both always show the same numbers. Ratios compare backends measured in the same run.
 */
import type { BackendResult, Environment, Report } from '../run/types.js';
import { inferShapes, type ModelSpec } from '@lenet/model';
import { describeTorchBuild, torchBuildWarning, type TorchBuild } from '../torch/build-info.js';
import { BUSY_MACHINE_PCT, othersDuringRun } from '../run/noise.js';
import { comparisonFor } from '../run/results.js';
import { isNearChance, chanceReason } from './verdict.js';
import { numClasses } from '@lenet/model';
import { formatInterval, formatRatio, overlaps, type Interval } from '../stats/intervals.js';

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
/** An accuracy cell; near chance (1 / classes) it says so and why, so 10% never reads as a broken backend. */
export function accuracyCell(report: Report, r: BackendResult, acc: number | null | undefined): string {
  const text = pctS(acc, 2);
  if (acc === null || acc === undefined || r.status !== 'ok' || !isNearChance(acc, numClasses(report.config.modelSpec))) return text;
  return `${text} = chance (${chanceReason(report, r).short})`;
}
const sci = (n: number | null | undefined) => (n === null || n === undefined ? 'non-finite' : n === 0 ? '0' : n.toExponential(2));

export function label(r: BackendResult): string {
  return r.kind === 'reference' ? `${r.backend} (reference)` : r.backend;
}

/** Marks timings taken on a software GPU (SwiftShader etc.): shown, but not representative. */
export const FALLBACK_MARK = '‡';
export const FALLBACK_NOTE = `${FALLBACK_MARK} software fallback adapter (the GPU emulated on the CPU, e.g. SwiftShader): timings shown but not representative of a GPU.`;
const timingLabel = (r: BackendResult) => (r.softwareFallback ? `${label(r)} ${FALLBACK_MARK}` : label(r));

const torchOf = (report: Report) => report.results.find((r) => r.kind === 'reference' && r.status === 'ok') ?? report.results.find((r) => r.kind === 'reference');

function best(values: (number | null | undefined)[], pick: 'max' | 'min'): number | null {
  const ok = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0);
  if (!ok.length) return null;
  return pick === 'max' ? Math.max(...ok) : Math.min(...ok);
}

/** A ratio to the reference with its interval, or "≈ (n.s.)" when 1 is inside it. */
function vsReference(report: Report, r: BackendResult, metric: string): string {
  if (r.kind === 'reference') return '1.00×';
  const cmp = comparisonFor(report, r.backend, metric);
  if (!cmp || !cmp.ratio) return dash;
  const text = formatRatio(cmp.ratio);
  return cmp.verdict === 'not distinguishable' ? `${text} (n.s.)` : text;
}

const ivText = (iv: Interval | null | undefined, fallback: number | null | undefined, d = 0) => (iv ? formatInterval(iv, d) : num(fallback, d));

export function trainingTable(report: Report): Table {
  const rs = report.results.filter((r) => r.training);
  const fastest = best(rs.map((r) => r.training!.imagesPerSecond), 'max');
  const torch = torchOf(report)?.training?.imagesPerSecond;
  const target = report.config.targetAccuracy;
  const v2 = report.schemaVersion >= 2;
  const c = report.config;
  return {
    title: 'Training',
    caption:
      `Same initial weights (seed ${c.seed}) and batch order on every backend; batch ${c.batchSize}, SGD lr ${c.lr}. ` +
      (v2
        ? `img/s: median of the training windows (~${c.sliceSeconds ?? '?'} s each, the backends taking turns; the first window, with warm-up, left out) and its exact 95% order-statistic interval. ` +
          `vs PyTorch: median of the per-round ratios with its interval; "n.s." = not distinguishable from 1. Accuracy: learning-curve subset of ${num(c.evalImages ?? c.testCount)} test images. `
        : 'img/s = images / training seconds (evaluation excluded). ') +
      `* = projected from the measured throughput (training was cut short).`,
    header: ['backend', 'epochs', 'train img/s [95% CI]', 'vs fastest', 'vs PyTorch', 'epoch time', `${c.epochs}-epoch time`, 'final val acc', 'val loss', `time to ${pctS(target, 0)}`, 'training ended'],
    numeric: [false, true, true, true, true, true, true, true, true, true, false],
    rows: report.results.map((r) => {
      const t = r.training;
      if (!t) return [label(r), dash, dash, dash, dash, dash, dash, dash, dash, dash, r.trainingSkipped ?? (r.error ? `error (${r.error.phase})` : dash)];
      const last = t.curve?.at(-1);
      const lastEpoch = t.epochs.at(-1);
      const mark = t.projected ? '*' : '';
      const epochsDone = t.curve?.length ? (last!.steps / Math.max(1, Math.ceil(c.trainCount / c.batchSize))).toFixed(2) : t.epochs.length ? `${t.epochs.length}${lastEpoch?.partial ? ' (partial)' : ''}` : '0';
      return [
        label(r),
        epochsDone,
        ivText(t.throughput, t.imagesPerSecond),
        ratio(t.imagesPerSecond, fastest),
        v2 ? vsReference(report, r, 'train') : ratio(t.imagesPerSecond, torch),
        seconds(t.epochSeconds) + mark,
        seconds(t.recipeSeconds) + mark,
        accuracyCell(report, r, last?.accuracy ?? lastEpoch?.valAccuracy),
        num(last?.loss ?? lastEpoch?.valLoss, 4),
        t.timeToTarget ? `${seconds(t.timeToTarget.seconds)} (epoch ${t.timeToTarget.epoch})` : 'not reached',
        t.budget.reason,
      ];
    }),
  };
}

/** DAWNBench-style: training seconds to reach each accuracy level, from the learning curves. */
export function timeToAccuracyTable(report: Report): Table {
  const target = report.config.targetAccuracy;
  const levels = [...new Set([0.3, 0.5, 0.6, target].filter((x) => x <= target))].sort((a, b) => a - b);
  const rows = report.results.filter((r) => r.training?.curve?.length).map((r) => {
    const curve = r.training!.curve!;
    const best = Math.max(...curve.map((p) => p.accuracy));
    return [
      label(r),
      ...levels.map((lv) => {
        const hit = curve.find((p) => p.accuracy >= lv);
        return hit ? `${seconds(hit.seconds)} (${num(hit.images / 1000, 0)}k img)` : 'not reached';
      }),
      accuracyCell(report, r, best),
      seconds(r.training!.trainSeconds),
      r.training!.stoppedBy === 'budget' ? r.training!.budget.reason : r.training!.stoppedBy === 'target' ? 'stopped at the target' : 'recipe finished',
    ];
  });
  return {
    title: 'Time to accuracy',
    caption:
      `Training seconds (evaluations excluded) until the learning curve (${num(report.config.evalImages ?? report.config.testCount)} stratified test images, evaluated every ` +
      `${report.config.evalEverySteps ? `${report.config.evalEverySteps} steps` : 'epoch'}) first reached each accuracy, and the images trained on by then. ` +
      'Identical work: every backend follows the same trajectory, so the images needed agree and the seconds compare the backends.',
    header: ['backend', ...levels.map((lv) => `to ${pctS(lv, 0)}`), 'best accuracy', 'trained for', 'end'],
    numeric: [false, ...levels.map(() => true), true, true, false],
    rows,
  };
}

export function epochsTable(report: Report): Table {
  const rows: string[][] = [];
  for (const r of report.results) {
    for (const e of r.training?.epochs ?? []) {
      rows.push([label(r), `${e.epoch}${e.partial ? '*' : ''}`, String(e.steps), num(e.trainLoss, 4), num(e.valLoss, 4), `${pctS(e.valAccuracy, 2)}${e.valAccuracy !== null && isNearChance(e.valAccuracy, numClasses(report.config.modelSpec)) ? ' (chance)' : ''}`, seconds(e.seconds), num(e.imagesPerSecond)]);
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
      return [label(r), num(e.count), accuracyCell(report, r, e.accuracy), num(e.loss, 4), seconds(e.seconds)];
    }),
  };
}

export function inferenceTable(report: Report): Table {
  const rs = report.results.filter((r) => r.inference);
  const fastest256 = best(rs.map((r) => r.inference!.batch256.imagesPerSecond), 'max');
  const fastest1 = best(rs.map((r) => r.inference!.batch1.p50Ms), 'min');
  const torch = torchOf(report)?.inference;
  const v2 = report.schemaVersion >= 2;
  const b = (r: BackendResult, n: number) => r.inference?.batches?.find((x) => x.batchSize === n);
  const fallback = rs.some((r) => r.softwareFallback) ? ` ${FALLBACK_NOTE}` : '';
  return {
    title: 'Inference',
    caption: (v2
      ? `Batch 1 latency and batch 256 throughput: medians over ${report.config.inferenceRounds ?? '?'} windows per batch size (~${(report.config.windowSeconds ?? 0).toFixed(2)} s each, the backends taking turns, order rotated every round) with exact 95% order-statistic intervals; p99 pooled over all calls. vs PyTorch: median of per-round ratios (> 1 = faster), "n.s." = not distinguishable.`
      : `Batch 1 latency (p50, p99 of the per-call samples) and batch 256 throughput (256 / p50), measured for ~${report.config.inferenceSeconds} s per backend. Latency ratio: p50 / the lowest p50.`) + fallback,
    header: ['backend', 'b1 p50 ms [95% CI]', 'b1 p99 ms', 'b1 vs lowest', 'b1 vs PyTorch', 'b256 img/s [95% CI]', 'vs fastest', 'vs PyTorch', 'samples b1/b256', 'peak RSS MB'],
    numeric: [false, true, true, true, true, true, true, true, true, true],
    rows: report.results.map((r) => {
      const i = r.inference;
      const rss = r.peakRssMB === null ? dash : num(r.peakRssMB);
      if (!i) return [label(r), dash, dash, dash, dash, dash, dash, dash, dash, rss];
      return [
        timingLabel(r),
        ivText(b(r, 1)?.p50Ms, i.batch1.p50Ms, 3),
        num(i.batch1.p99Ms, 3),
        ratio(i.batch1.p50Ms, fastest1),
        v2 ? vsReference(report, r, 'infer-b1') : ratio(torch?.batch1.p50Ms, i.batch1.p50Ms),
        ivText(b(r, 256)?.imagesPerSecond, i.batch256.imagesPerSecond),
        ratio(i.batch256.imagesPerSecond, fastest256),
        v2 ? vsReference(report, r, 'infer-b256') : ratio(i.batch256.imagesPerSecond, torch?.batch256.imagesPerSecond),
        `${i.batch1.samplesCount}/${i.batch256.samplesCount}`,
        rss,
      ];
    }),
  };
}

/** Throughput at every measured batch size (--batch-sizes), medians with intervals. */
export function batchSizeTable(report: Report): Table | null {
  const sizes = [...new Set(report.results.flatMap((r) => r.inference?.batches?.map((b) => b.batchSize) ?? []))].sort((a, b) => a - b);
  if (sizes.length <= 2) return null;
  return {
    title: 'Inference throughput by batch size',
    caption: 'img/s: median over windows with its 95% interval.',
    header: ['backend', ...sizes.map((s) => `b${s} img/s`)],
    numeric: [false, ...sizes.map(() => true)],
    rows: report.results.filter((r) => r.inference?.batches).map((r) => [label(r), ...sizes.map((s) => ivText(r.inference!.batches!.find((b) => b.batchSize === s)?.imagesPerSecond, null))]),
  };
}

/** Pairs of backends whose intervals overlap on a headline figure: they cannot be ranked from this run. */
export function indistinguishable(report: Report): string[] {
  const out: string[] = [];
  const figures: [string, (r: BackendResult) => Interval | null | undefined][] = [
    ['training img/s', (r) => r.training?.throughput],
    ['b256 img/s', (r) => r.inference?.batches?.find((b) => b.batchSize === 256)?.imagesPerSecond],
    ['b1 p50', (r) => r.inference?.batches?.find((b) => b.batchSize === 1)?.p50Ms],
  ];
  for (const [name, get] of figures) {
    const rs = report.results.filter((r) => get(r)?.low != null);
    for (let i = 0; i < rs.length; i++) for (let j = i + 1; j < rs.length; j++) {
      if (overlaps(get(rs[i]!) ?? null, get(rs[j]!) ?? null)) out.push(`${name}: ${label(rs[i]!)} and ${label(rs[j]!)} are not distinguishable (95% intervals overlap)`);
    }
  }
  return out;
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

/** ", end of life since 2026-04-30" for a Node line past its end of life (reports since issue 27). */
export function nodeEndOfLifeNote(e: Environment): string {
  const s = e.nodeSupport;
  return s?.pastEndOfLife && s.endOfLife ? `; end of life since ${s.endOfLife}` : '';
}

/** "; wasm SIMD, relaxed SIMD, threads" — the WebAssembly features the run's children had. */
export function wasmFeaturesNote(e: Environment): string {
  const w = e.wasm;
  if (!w) return '';
  const on = [w.simd && 'SIMD', w.relaxedSimd && `relaxed SIMD${w.childV8Flags.includes('--experimental-wasm-relaxed-simd') ? ' (via --experimental-wasm-relaxed-simd)' : ''}`, w.threads && 'threads']
    .filter((x): x is string => typeof x === 'string');
  return `; wasm ${on.length ? on.join(', ') : 'without SIMD or threads'}`;
}

/** The environment lines in groups (Machine, Method, Noise, Versions), in this order, empty groups left out. */
export function environmentGroups(report: Report): { title: string; lines: string[] }[] {
  const group = (l: string) =>
    /^(Machine|Merged source)/.test(l) ? 'Machine' : /^Noise/.test(l) ? 'Noise' : /^(PyTorch|Runtime|GPU adapters)/.test(l) ? 'Versions' : 'Method';
  const titles = ['Machine', 'Method', 'Noise', 'Versions'];
  const lines = environmentLines(report);
  return titles.map((title) => ({ title, lines: lines.filter((l) => group(l) === title) })).filter((g) => g.lines.length);
}

export function environmentLines(report: Report): string[] {
  const e = report.environment;
  const c = report.config;
  const lines = [
    `Machine: ${e.cpuModel}, ${e.cores} cores (${e.availableParallelism} available), ${Math.round(e.totalMemoryMB / 1024)} GiB RAM, ${e.os.platform} ${e.os.release} ${e.os.arch}; Node ${e.node} (V8 ${e.v8}${nodeEndOfLifeNote(e)})${wasmFeaturesNote(e)}; load average at start ${e.loadAverage.join(' / ')}.`,
    `Threads: ${e.threads ?? 'each backend\u2019s default'}. Data: ${c.dataset} (${c.dataSource.kind} ${c.dataSource.dir}, ${c.trainCount.toLocaleString('en-US')} train / ${c.testCount.toLocaleString('en-US')} test images${c.limit ? `, --limit ${c.limit}` : ''}).`,
    `Profile ${c.profile}: ${c.epochs} epoch(s), ${c.trainSeconds !== null ? `at most ${c.trainSeconds} s of training per backend` : c.maxProjectedSeconds !== null ? `full recipe unless projected over ${seconds(c.maxProjectedSeconds)} (then ${c.fallbackTrainSeconds} s)` : 'no budget'}${c.maxStepsPerEpoch ? `, at most ${c.maxStepsPerEpoch} steps per epoch` : ''}; batch ${c.batchSize}, lr ${c.lr}, seed ${c.seed}.`,
  ];
  for (const m of report.machines ?? []) lines.push(`Merged source: ${m.label}: ${m.environment.cpuModel}, ${m.environment.cores} cores, Node ${m.environment.node} (${m.file}).`);
  if (c.shard) lines.push(`Shard ${c.shard.index} of ${c.shard.count}: every ${c.shard.count}th cell (and the reference); join the shards with lenet-bench merge.`);
  if (c.stopAtTarget) lines.push(`Training stops when the learning curve reaches ${pctS(c.targetAccuracy, 0)} (time to accuracy)${(c.minTrainWindows ?? 1) > 1 ? `, but not before ${c.minTrainWindows} training windows (the warm-up and ${c.minTrainWindows! - 1} for a 95% interval of its throughput)` : ''}; a backend whose ${c.epochs}-epoch recipe would take more than ${seconds(c.maxProjectedSeconds)} trains for ${c.fallbackTrainSeconds} s instead (budget-limited); at most ${seconds(c.trainSeconds)} per backend.`);
  // One PyTorch line: the build read from the running process says more than the pre-run check.
  const torchBuild = report.results.find((r) => r.kind === 'reference')?.build;
  if (torchBuild) lines.push(`PyTorch (read from the running process): ${describeBuild(torchBuild)}.`);
  else if (e.python) lines.push(`PyTorch: ${e.python.note}.`);
  const noise = report.noise ?? [];
  if (noise.length) {
    const range = (xs: (number | null)[], unit: string, d = 1) => {
      const ok = xs.filter((x): x is number => x !== null && Number.isFinite(x));
      return ok.length ? `${Math.min(...ok).toFixed(d)}–${Math.max(...ok).toFixed(d)}${unit}` : 'not exposed';
    };
    const during = noise.slice(1);
    const others = during.some((n) => typeof n.othersPct === 'number') ? `, other processes ${range(during.map((n) => n.othersPct ?? null), '%', 0)} of the CPU` : '';
    lines.push(
      `Noise: 1-min load average ${range(noise.map((n) => n.load1), '', 2)} (before the run: ${noise[0]!.load1.toFixed(2)}); CPU clock ${range(noise.map((n) => n.cpuMHz), ' MHz', 0)}; ` +
        `hypervisor steal ${range(during.map((n) => n.stealPct), '%')}, CPU busy ${range(during.map((n) => n.busyPct), '%', 0)}${others} per round (${noise.length} samples).`,
    );
  }
  const runtimes = report.results.filter((r) => r.runtime).map((r) => `${r.backend}: ${r.runtime}${Object.keys(r.versions).length ? ` (${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
  for (const rt of runtimes) lines.push(`Runtime ${rt}.`);
  const gpus = report.results.filter((r) => r.adapter).map((r) => `${r.backend}: ${r.adapter}${r.softwareFallback ? ` (software fallback ${FALLBACK_MARK}: timings not representative)` : ''}`);
  if (gpus.length) lines.push(`GPU adapters: ${gpus.join('; ')}.`);
  return lines;
}

export function allTables(report: Report): Table[] {
  const out = [trainingTable(report), evaluationTable(report), inferenceTable(report), agreementTable(report)];
  if (report.results.some((r) => r.training?.curve?.length)) out.splice(1, 0, timeToAccuracyTable(report));
  const bs = batchSizeTable(report);
  if (bs) out.splice(out.length - 1, 0, bs);
  const roof = rooflineTable(report);
  if (roof) out.splice(out.length - 1, 0, roof);
  if (report.results.some((r) => (r.training?.epochs.length ?? 0) > 1)) out.splice(1, 0, epochsTable(report));
  if (report.errors.length) out.push(errorsTable(report));
  return out;
}

/** One line from a runtime's build facts (PyTorch: version, BLAS, oneDNN, CPU capability, threads). */
export function describeBuild(build: Record<string, unknown>): string {
  if (isFullTorchBuild(build)) return describeTorchBuild(build);
  const b = build as { torch?: string; blas?: { kind?: string; library?: string | null }; mkldnn?: boolean; onednn?: boolean; cpuCapability?: string | null; threads?: number };
  const parts: string[] = [];
  if (b.torch) parts.push(`torch ${b.torch}`);
  if (b.blas) parts.push(`BLAS ${b.blas.kind ?? 'unknown'}${b.blas.library ? ` (${b.blas.library})` : ''}`);
  if (b.onednn !== undefined || b.mkldnn !== undefined) parts.push(`oneDNN ${(b.onednn ?? b.mkldnn) ? 'yes' : 'no'}`);
  if (b.cpuCapability) parts.push(`CPU capability ${b.cpuCapability}`);
  if (b.threads) parts.push(`${b.threads} threads`);
  return parts.join(', ') || JSON.stringify(build);
}

/** Build facts as written by apps/bench/python/lenet_torch.py (older reports hold less). */
function isFullTorchBuild(b: unknown): b is TorchBuild {
  const x = b as Partial<TorchBuild> | null;
  return !!x && typeof x === 'object' && !!x.blas && !!x.sgemm && !!x.config && !!x.mkldnn;
}

/** Warnings a reader must see first: a handicapped reference, a machine busy with other work. */
export function headerWarnings(report: Report): string[] {
  const out: string[] = [];
  const others = othersDuringRun(report.noise ?? []);
  if (others !== null && others > BUSY_MACHINE_PCT)
    out.push(
      `Other processes used ${others.toFixed(0)}% of the CPU (median over the rounds) while this run measured. ` +
        'Contention slows multi-threaded cells more than single-threaded ones, so the ratios between backends shift, beyond what the intervals cover; measure on a quiet machine to compare with other runs.',
    );
  for (const ref of report.results.filter((r) => r.kind === 'reference' && r.build)) {
    const build = ref.build!;
    if (isFullTorchBuild(build)) {
      const w = torchBuildWarning(build);
      if (w) out.push(`${ref.backend}: ${w.replace(/^warning: /, '')}`);
    } else if ((build as { blas?: { kind?: string } }).blas?.kind === 'reference') {
      out.push(
        'The PyTorch column understates PyTorch: this torch uses the generic reference BLAS (about 4 GFLOP/s sgemm instead of ~60 with OpenBLAS). ' +
          'Install an optimized BLAS (Debian/Ubuntu: apt-get install libopenblas0-pthread) or a pip torch wheel, then run again.',
      );
    }
  }
  return out;
}

/**
 * Multiply-adds per image from the model summary: forward (inference), and forward + backward for
 * training (weight gradients: one more pass of every conv/dense layer's multiply-adds; input
 * gradients: another, except for the first trainable layer, whose input needs none).
 */
export function macsPerImage(spec: ModelSpec): { forward: number; training: number } {
  const layers = inferShapes(spec);
  const forward = layers.reduce((a, l) => a + l.macs, 0);
  const first = layers.find((l) => l.macs > 0)?.macs ?? 0;
  return { forward, training: 3 * forward - first };
}

/** Achieved GFLOP/s per cell and its share of the peaks measured in the same run. */
export function rooflineTable(report: Report): Table | null {
  const p = report.peaks;
  if (!p) return null;
  const macs = macsPerImage(report.config.modelSpec);
  const native = p.native?.gflops?.estimate ?? null;
  const wasm = p.wasm?.gflops?.estimate ?? null;
  const share = (g: number | null, peak: number | null): string => {
    if (g === null || peak === null || !(peak > 0)) return dash;
    const f = g / peak;
    return `${(100 * f).toFixed(f >= 0.1 ? 0 : 1)}%`;
  };
  const gf = (ips: number | null | undefined, m: number) => (ips && ips > 0 ? (ips * 2 * m) / 1e9 : null);
  const rows = report.results.filter((r) => r.status === 'ok').map((r) => {
    const threads = r.threads ?? 1;
    const wasmPeak = wasm === null ? null : wasm * threads;
    const t = gf(r.training?.imagesPerSecond, macs.training);
    const i = gf(r.inference?.batch256.imagesPerSecond, macs.forward);
    return [label(r), num(t, 2), share(t, native), share(t, wasmPeak), num(i, 2), share(i, native), share(i, wasmPeak), r.threads === null ? dash : String(r.threads)];
  });
  const describePeak = (name: string, x: typeof p.native) =>
    x?.gflops ? `${name} ${formatInterval(x.gflops, 1)} GFLOP/s (${x.detail ?? 'measured'}, ${x.windows.length} windows)` : `${name}: ${x?.unavailable ?? 'not measured'}`;
  return {
    title: 'Roofline: achieved GFLOP/s and share of the measured peaks',
    caption:
      `GFLOP/s = img/s × 2 × multiply-adds per image (${num(macs.forward)} forward for inference; ${num(macs.training)} forward + backward for training). ` +
      `Peaks measured in this run, between the inference rounds: ${describePeak('native GEMM', p.native)}; ${describePeak('WebAssembly SIMD, 1 thread', p.wasm)}. ` +
      'The WebAssembly share uses that single-thread peak times the cell\u2019s threads.',
    header: ['backend', 'train GFLOP/s', '% native peak', '% wasm SIMD peak', 'b256 GFLOP/s', '% native peak', '% wasm SIMD peak', 'threads'],
    numeric: [false, true, true, true, true, true, true, true],
    rows,
  };
}

/**
 * Cold start (report field BackendResult.coldStart): per backend, medians over fresh processes of
 * import (package + runtime), createSession, the first batch-1 predict, their sum (the time until
 * a user has a first answer) and the first training step. Null when no row has one.
 */
export function coldStartTable(report: Report): Table | null {
  const rs = report.results.filter((r) => r.coldStart);
  if (!rs.length) return null;
  const quickest = best(rs.map((r) => r.coldStart!.toFirstPredictionMs.estimate), 'min');
  const processes = [...new Set(rs.map((r) => r.coldStart!.processes))].join('/');
  const ms = (iv: Interval | null) => (iv ? formatInterval(iv, iv.estimate < 10 ? 1 : 0) : dash);
  return {
    title: 'Cold start',
    caption:
      `Fresh Node processes per backend (${processes}; the backends took turns), each timing: import() of the backend package and its runtime (our packages load TF.js, ONNX Runtime, jax-js and the wasm kernels on first use), ` +
      `createSession on the seeded init, the first batch-1 predict, and the first training step at batch ${report.config.batchSize} (jit compilation, graph building and wasm warm-up land here). ` +
      'Medians in ms; 95% intervals from 6 processes up. Node\'s own start-up is not included (report.json has, per process, when each phase ended).' +
      (rs.some((r) => r.backend.includes(' @ '))
        ? ' Rows "@ <browser>" come from `lenet-bench browser --cold-starts`: each sample a fresh page document (a new iframe of the page, the files from the browser cache after the first), the same phases on that document\'s main thread, on the browser run\'s weights, the first step on the first test images.'
        : ''),
    header: ['backend', 'import ms', 'session ms', 'first predict ms', 'to first prediction ms', 'vs quickest', 'first train step ms'],
    numeric: [false, true, true, true, true, true, true],
    rows: rs.map((r) => {
      const c = r.coldStart!;
      return [label(r), ms(c.importMs), ms(c.sessionMs), ms(c.firstPredictMs), ms(c.toFirstPredictionMs), ratio(c.toFirstPredictionMs.estimate, quickest), ms(c.firstStepMs)];
    }),
  };
}
