/**
 * The verdict: the first thing report.md, report.html and the end of `run` show. One row per
 * backend (accuracy reached, training speed, time to target, b1 latency, b256 throughput, cold
 * start, memory, agreement) and a few sentences computed from the intervals: which backends lead
 * each figure, which cannot be told apart (95% intervals overlap), which trained too little to
 * compare. Pure data here; markdown.ts, html.ts and commands/run.ts render it.
 */
import { numClasses, type ModelSpec } from '@lenet/model';
import type { BackendResult, Report } from '../run/types.js';
import { comparisonFor } from '../run/results.js';
import { formatInterval, formatRatio, overlaps, type Interval } from '../stats/intervals.js';
import { hangingWrap } from '../terminal.js';

/** Float32 backends against the float64 reference: below this max |Δlogit| with identical predictions = agrees. */
export const AGREEMENT_TOLERANCE = 1e-3;
/** d2l's sigmoid LeNet sits at chance for about this many epochs (REFERENCE.md: 0.110, 0.100, then 0.198). */
export const SIGMOID_PLATEAU_EPOCHS = 2;

export interface ChanceFlag {
  kind: 'budget' | 'plateau' | 'untrained' | 'not learning';
  /** e.g. "budget-limited after 20.0 s (0.12 epochs), on d2l's sigmoid plateau". */
  reason: string;
  /** The same in a few words, for table cells: e.g. "budget-limited after 20.0 s (0.12 epochs)". */
  short: string;
}

export interface VerdictRow {
  backend: string;
  ok: boolean;
  accuracy: number | null;
  /** Accuracy near chance (1 / classes), with why. */
  chance: ChanceFlag | null;
  /** False when training was cut by the budget before the target: its accuracy says nothing about the backend. */
  comparable: boolean;
  /** At chance while d2l's sigmoid recipe is still on its plateau (explained once in the sentences). */
  onPlateau: boolean;
  /** Why not comparable (or why at chance), for the table cell and the sentences. */
  note: string | null;
  epochs: number | null;
  trainSeconds: number | null;
  train: Interval | null;
  trainVsReference: Interval | null;
  timeToTarget: number | null;
  b1P50Ms: Interval | null;
  b256: Interval | null;
  coldStartMs: Interval | null;
  peakRssMB: number | null;
  agreement: { agrees: boolean; maxAbsLogitDiff: number | null } | null;
  error: string | null;
}

export interface Verdict {
  target: number;
  reference: string | null;
  chanceLevel: number;
  rows: VerdictRow[];
  sentences: string[];
}

const point = (v: number | null | undefined): Interval | null => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? { estimate: v, low: null, high: null, n: 1 } : null);
const pct = (v: number, d = 1) => `${(v * 100).toFixed(d)}%`;
const secs = (s: number) => (s < 60 ? `${s.toFixed(1)} s` : `${(s / 60).toFixed(1)} min`);
const epochsText = (e: number) => `${e.toFixed(e < 1 ? 2 : 1)} epoch${e === 1 ? '' : 's'}`;

export function isSigmoidRecipe(spec: ModelSpec): boolean {
  return spec.layers.some((l) => l.type === 'activation' && (l as { fn?: string }).fn === 'sigmoid');
}

/** Accuracy at most 1.5x chance (15% for 10 classes) counts as chance: REFERENCE.md's epoch 3 is already 19.8%. */
export function isNearChance(accuracy: number, classes: number): boolean {
  return accuracy <= 1.5 / classes;
}

function epochsTrained(report: Report, r: BackendResult): number | null {
  const t = r.training;
  if (!t) return null;
  const last = t.curve?.at(-1);
  if (last) return last.images / Math.max(1, report.config.trainCount);
  return (t.totalSteps * report.config.batchSize) / Math.max(1, report.config.trainCount);
}

/** Why a row's accuracy is at chance (the caller checked that it is). */
export function chanceReason(report: Report, r: BackendResult): ChanceFlag {
  const sigmoid = isSigmoidRecipe(report.config.modelSpec);
  const t = r.training;
  if (!t) {
    // Inference-only rows evaluate the shared weights of the first trainer.
    const source = report.results.find((x) => x.training?.weightsFile && x.kind === 'backend' && x !== r);
    if (source) {
      const inner = chanceReason(report, source);
      return { kind: inner.kind, reason: `shared weights of ${source.backend}: ${inner.reason}`, short: `weights of ${source.backend}: ${inner.short}` };
    }
    return { kind: 'untrained', reason: 'untrained weights', short: 'untrained weights' };
  }
  if (t.totalSteps === 0) return { kind: 'untrained', reason: 'untrained weights (0 steps)', short: 'untrained weights' };
  const e = epochsTrained(report, r) ?? 0;
  const plateau = sigmoid && e < SIGMOID_PLATEAU_EPOCHS + 1 ? `, still on d2l's sigmoid LeNet plateau (chance for ~${SIGMOID_PLATEAU_EPOCHS} epochs)` : '';
  if (t.stoppedBy === 'budget') return { kind: 'budget', reason: `budget-limited after ${secs(t.trainSeconds)} (${epochsText(e)})${plateau}`, short: `budget-limited after ${secs(t.trainSeconds)}, ${epochsText(e)}` };
  if (plateau) return { kind: 'plateau', reason: `recipe plateau: ${epochsText(e)} trained; d2l's sigmoid LeNet sits at chance for ~${SIGMOID_PLATEAU_EPOCHS} epochs`, short: `d2l recipe plateau, ${epochsText(e)}` };
  return { kind: 'not learning', reason: `at chance after ${epochsText(e)}: training did not learn`, short: `did not learn in ${epochsText(e)}` };
}

const batch = (r: BackendResult, n: number) => r.inference?.batches?.find((b) => b.batchSize === n);

export function verdictRow(report: Report, r: BackendResult): VerdictRow {
  const classes = numClasses(report.config.modelSpec);
  const t = r.training;
  const accuracy = r.evaluation?.accuracy ?? t?.curve?.at(-1)?.accuracy ?? t?.epochs.at(-1)?.valAccuracy ?? null;
  const chance = accuracy !== null && r.status === 'ok' ? (isNearChance(accuracy, classes) ? chanceReason(report, r) : null) : null;
  const target = report.config.targetAccuracy;
  const reached = t?.timeToTarget ? t.timeToTarget.seconds : (t?.curve?.find((p) => p.accuracy >= target)?.seconds ?? null);
  const e = epochsTrained(report, r);
  const budgetCut = t?.stoppedBy === 'budget' && reached === null;
  const onPlateau = isSigmoidRecipe(report.config.modelSpec) && (e ?? 0) < SIGMOID_PLATEAU_EPOCHS + 1;
  const note = budgetCut
    ? `not comparable: trained ${secs(t!.trainSeconds)} (${epochsText(e ?? 0)})${chance ? (onPlateau ? ', still at the d2l plateau (= chance)' : ', at chance') : ''}`
    : chance
      ? `= chance (${chance.short})`
      : null;
  const g = r.agreement;
  return {
    backend: r.kind === 'reference' ? `${r.backend} (reference)` : r.backend,
    ok: r.status === 'ok',
    accuracy,
    chance,
    comparable: !budgetCut && !chance,
    onPlateau: !!chance && onPlateau,
    note,
    epochs: e,
    trainSeconds: t?.trainSeconds ?? null,
    train: t ? (t.throughput ?? point(t.imagesPerSecond)) : null,
    trainVsReference: r.kind === 'reference' ? null : (comparisonFor(report, r.backend, 'train')?.ratio ?? null),
    timeToTarget: reached,
    b1P50Ms: batch(r, 1)?.p50Ms ?? point(r.inference?.batch1.p50Ms),
    b256: batch(r, 256)?.imagesPerSecond ?? point(r.inference?.batch256.imagesPerSecond),
    coldStartMs: r.coldStart?.toFirstPredictionMs ?? null,
    peakRssMB: r.peakRssMB,
    agreement: g ? { agrees: g.maxAbsLogitDiff !== null && g.maxAbsLogitDiff < AGREEMENT_TOLERANCE && g.identicalPredictions === 1, maxAbsLogitDiff: g.maxAbsLogitDiff } : null,
    error: r.error ? `${r.error.phase}: ${r.error.message}` : null,
  };
}

const list = (xs: string[]) => (xs.length <= 1 ? (xs[0] ?? '') : `${xs.slice(0, -1).join(', ')} and ${xs.at(-1)}`);
const has = (iv: Interval | null): iv is Interval => !!iv && iv.low !== null && iv.high !== null;

/**
 * The leaders of one figure: the best estimate and every row whose 95% interval overlaps the
 * best's (they cannot be ranked). Rows that disagree with the reference are not ranked (MLPerf:
 * fast but wrong is wrong).
 */
export function leaders(rows: VerdictRow[], get: (r: VerdictRow) => Interval | null, better: 'higher' | 'lower'): { best: VerdictRow[]; rest: VerdictRow[]; intervals: boolean } | null {
  const cands = rows.filter((r) => r.ok && get(r) && r.agreement?.agrees !== false);
  if (!cands.length) return null;
  const sorted = [...cands].sort((a, b) => (better === 'higher' ? get(b)!.estimate - get(a)!.estimate : get(a)!.estimate - get(b)!.estimate));
  const top = sorted[0]!;
  const intervals = has(get(top));
  const best = intervals ? sorted.filter((r) => r === top || (has(get(r)) && overlaps(get(top), get(r)))) : [top];
  return { best, rest: sorted.filter((r) => !best.includes(r)), intervals };
}

function figureSentence(rows: VerdictRow[], what: string, get: (r: VerdictRow) => Interval | null, better: 'higher' | 'lower', fmt: (v: number) => string, extra?: (r: VerdictRow) => string): string | null {
  const l = leaders(rows, get, better);
  if (!l) return null;
  const value = (r: VerdictRow) => `${r.backend} ${fmt(get(r)!.estimate)}${extra ? extra(r) : ''}`;
  let s: string;
  if (l.best.length === 1) {
    s = `${what}: ${value(l.best[0]!)}`;
    const next = l.rest[0];
    if (next) s += l.intervals && has(get(next)) ? `, ahead of ${value(next)} beyond the 95% intervals` : `, then ${value(next)} (too few windows for an interval)`;
  } else {
    s = `${what}: ${list(l.best.map(value))}, not distinguishable (95% intervals overlap)`;
  }
  const last = l.rest.at(-1);
  // The runner-up is already named after a single leader; after a tie it is not.
  if (last && (l.best.length > 1 || last !== l.rest[0])) {
    const f = get(l.best[0]!)!.estimate / get(last)!.estimate;
    const ratio = better === 'higher' ? f : 1 / f;
    s += `; slowest ${last.backend} (${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}× behind)`;
  }
  return `${s}.`;
}

export function buildVerdict(report: Report): Verdict {
  const rows = report.results.map((r) => verdictRow(report, r));
  const target = report.config.targetAccuracy;
  const chanceLevel = 1 / numClasses(report.config.modelSpec);
  const reference = report.comparisons?.reference ?? null;
  const int = (v: number) => Math.round(v).toLocaleString('en-US');
  const sentences: string[] = [];
  const train = figureSentence(rows, 'Fastest training', (r) => r.train, 'higher', (v) => `${int(v)} img/s`, (r) => (r.trainVsReference ? ` (${formatRatio(r.trainVsReference)} ${reference})` : ''));
  if (train) sentences.push(train);
  const b1 = figureSentence(rows, 'Lowest batch-1 latency', (r) => r.b1P50Ms, 'lower', (v) => `${v.toFixed(3)} ms`);
  if (b1) sentences.push(b1);
  const b256 = figureSentence(rows, 'Highest batch-256 throughput', (r) => r.b256, 'higher', (v) => `${int(v)} img/s`);
  if (b256) sentences.push(b256);
  const trainers = rows.filter((r) => r.ok && r.train);
  const hit = trainers.filter((r) => r.timeToTarget !== null).sort((a, b) => a.timeToTarget! - b.timeToTarget!);
  if (hit.length) sentences.push(`Reached the ${pct(target, 0)} target: ${list(hit.map((r) => `${r.backend} in ${secs(r.timeToTarget!)}`))}.`);
  else if (trainers.length) {
    const bestAcc = [...trainers].filter((r) => r.accuracy !== null).sort((a, b) => b.accuracy! - a.accuracy!)[0];
    const best = !bestAcc ? '' : bestAcc.chance ? ' (all at chance)' : ` (best: ${bestAcc.backend} at ${pct(bestAcc.accuracy!)})`;
    sentences.push(`No backend reached the ${pct(target, 0)} target in this run${best}.`);
  }
  const cut = trainers.filter((r) => !r.comparable);
  if (cut.length) {
    // Rows with the same reason are named together ("plain and ort-node (d2l recipe plateau, 1.0 epoch)").
    const byReason = new Map<string, string[]>();
    for (const r of cut) {
      const why = r.chance ? r.chance.short : (r.note ?? '').replace(/^not comparable: /, '');
      byReason.set(why, [...(byReason.get(why) ?? []), r.backend]);
    }
    const groups = [...byReason].map(([why, names]) => `${list(names)} (${why})`);
    const plateau = cut.filter((r) => r.onPlateau);
    const chanceText = `${pct(chanceLevel, 0)} = chance for ${Math.round(1 / chanceLevel)} classes`;
    const subject = plateau.length === cut.length ? (cut.length > 2 ? 'all are' : cut.length === 2 ? 'both are' : 'it is') : `${list(plateau.map((r) => r.backend))} ${plateau.length > 1 ? 'are' : 'is'}`;
    const why = plateau.length
      ? `; ${subject} still on d2l's sigmoid-LeNet plateau, where accuracy stays at chance (${pct(chanceLevel, 0)} for ${Math.round(1 / chanceLevel)} classes) for about ${SIGMOID_PLATEAU_EPOCHS} epochs`
      : cut.some((r) => r.chance)
        ? ` (${chanceText})`
        : '';
    sentences.push(`Trained too little to compare accuracy: ${list(groups)}${why}.`);
  }
  const checked = rows.filter((r) => r.agreement);
  const wrong = checked.filter((r) => !r.agreement!.agrees);
  const failed = rows.filter((r) => !r.ok);
  const tail: string[] = [];
  if (checked.length && !wrong.length) {
    const max = Math.max(...checked.map((r) => r.agreement!.maxAbsLogitDiff ?? 0));
    const low = cut.length ? ', so low accuracy comes from the training time, not a wrong forward pass' : '';
    tail.push(`${checked.length > 1 ? `${checked.length === 2 ? 'Both' : `All ${checked.length}`} checked backends agree` : `${checked[0]!.backend} agrees`} with the float64 reference (max |Δlogit| ${max.toExponential(1)}, identical predictions)${low}`);
  } else if (wrong.length) tail.push(`${list(wrong.map((r) => r.backend))} ${wrong.length > 1 ? 'disagree' : 'disagrees'} with the float64 reference (not ranked)`);
  if (failed.length) tail.push(`${list(failed.map((r) => r.backend))} failed (see Errors)`);
  if (tail.length) sentences.push(`${tail.join('; ')}.`);
  return { target, reference, chanceLevel, rows, sentences };
}

/** One column of the verdict table: full cells (report files) and compact ones (narrow terminals). */
export interface VerdictColumn {
  header: string;
  shortHeader: string;
  numeric: boolean;
  cells: string[];
  shortCells: string[];
  /** Lower = dropped first when the terminal is narrow. */
  priority: number;
  /** Long prose cells (accuracy and why): HTML may wrap them; every other cell stays on one line. */
  prose?: boolean;
}

const dash = '–';
const iv = (x: Interval | null, d = 0) => (x ? formatInterval(x, d) : dash);
const est = (x: Interval | null, d = 0) => (x ? x.estimate.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : dash);

/** The verdict's columns; columns without any data are left out, and "[95% CI]" only heads columns that have an interval. */
export function verdictColumns(v: Verdict): VerdictColumn[] {
  const rows = v.rows;
  const ci = (get: (r: VerdictRow) => Interval | null) => (rows.some((r) => has(get(r))) ? ' [95% CI]' : '');
  const accFull = (r: VerdictRow) => (!r.ok ? `error (${r.error?.split(':')[0] ?? '?'})` : r.accuracy === null ? dash : `${pct(r.accuracy, 2)}${r.note ? `${r.note.startsWith('=') ? ' ' : ' — '}${r.note}` : ''}`);
  const accShort = (r: VerdictRow) => (!r.ok ? 'error' : r.accuracy === null ? dash : `${pct(r.accuracy)}${r.chance ? ' chance' : !r.comparable ? ' (cut)' : ''}`);
  const agree = (r: VerdictRow) => (!r.agreement ? dash : `${r.agreement.agrees ? '✓' : '✗'} ${r.agreement.maxAbsLogitDiff === null ? 'non-finite' : r.agreement.maxAbsLogitDiff.toExponential(0)}`);
  const cols: VerdictColumn[] = [
    { header: 'backend', shortHeader: 'backend', numeric: false, cells: rows.map((r) => r.backend), shortCells: rows.map((r) => r.backend), priority: 100 },
    { header: 'accuracy', shortHeader: 'acc', numeric: false, cells: rows.map(accFull), shortCells: rows.map(accShort), priority: 90, prose: true },
    { header: `train img/s${ci((r) => r.train)}`, shortHeader: 'train img/s', numeric: true, cells: rows.map((r) => iv(r.train)), shortCells: rows.map((r) => est(r.train)), priority: 80 },
    { header: `×${v.reference ?? 'reference'}${ci((r) => r.trainVsReference)}`, shortHeader: `×${v.reference === 'pytorch' ? 'torch' : (v.reference ?? 'ref')}`, numeric: true, cells: rows.map((r) => (r.backend.endsWith('(reference)') ? '1.00×' : r.trainVsReference ? formatRatio(r.trainVsReference) : dash)), shortCells: rows.map((r) => (r.backend.endsWith('(reference)') ? '1.00×' : r.trainVsReference ? formatRatio(point(r.trainVsReference.estimate)) : dash)), priority: 40 },
    { header: `time to ${pct(v.target, 0)}`, shortHeader: `to ${pct(v.target, 0)}`, numeric: true, cells: rows.map((r) => (r.timeToTarget !== null ? secs(r.timeToTarget) : r.train ? 'not reached' : dash)), shortCells: rows.map((r) => (r.timeToTarget !== null ? secs(r.timeToTarget) : r.train ? 'no' : dash)), priority: 60 },
    { header: `b1 p50 ms${ci((r) => r.b1P50Ms)}`, shortHeader: 'b1 ms', numeric: true, cells: rows.map((r) => iv(r.b1P50Ms, 3)), shortCells: rows.map((r) => est(r.b1P50Ms, 3)), priority: 70 },
    { header: `b256 img/s${ci((r) => r.b256)}`, shortHeader: 'b256 img/s', numeric: true, cells: rows.map((r) => iv(r.b256)), shortCells: rows.map((r) => est(r.b256)), priority: 75 },
    { header: `cold start ms${ci((r) => r.coldStartMs)}`, shortHeader: 'cold ms', numeric: true, cells: rows.map((r) => iv(r.coldStartMs)), shortCells: rows.map((r) => est(r.coldStartMs)), priority: 30 },
    { header: 'peak RSS MB', shortHeader: 'RSS MB', numeric: true, cells: rows.map((r) => (r.peakRssMB === null ? dash : est(point(r.peakRssMB)))), shortCells: rows.map((r) => (r.peakRssMB === null ? dash : est(point(r.peakRssMB)))), priority: 20 },
    { header: 'vs float64 (max |Δlogit|)', shortHeader: 'vs f64', numeric: false, cells: rows.map(agree), shortCells: rows.map((r) => (!r.agreement ? dash : r.agreement.agrees ? '✓' : '✗')), priority: 50 },
  ];
  return cols.filter((c, i) => i === 0 || c.cells.some((x) => x !== dash));
}

/** Plain-text width of a cell (every character used here is one column wide). */
const width = (s: string) => [...s].length;

/**
 * Fits the verdict table to `columns` characters: first compact cells (no intervals, short
 * accuracy), least important columns first, then drops columns, least important first. Cells are
 * never wrapped.
 */
export function fitVerdictTable(v: Verdict, columns: number): string {
  const cols = verdictColumns(v).map((c) => ({ ...c, short: false }));
  const colWidth = (c: (typeof cols)[number]) => Math.max(width(c.short ? c.shortHeader : c.header), ...(c.short ? c.shortCells : c.cells).map(width));
  const total = () => cols.reduce((a, c) => a + colWidth(c), 0) + 2 * (cols.length - 1);
  const byPriority = [...cols].sort((a, b) => a.priority - b.priority);
  // The accuracy's long reason goes first (the sentences give it), then the intervals, least important first.
  const prose = cols.filter((c) => c.prose);
  for (const c of [...prose, ...byPriority.filter((x) => !x.prose)]) {
    if (total() <= columns) break;
    c.short = true;
  }
  for (const c of byPriority) {
    if (total() <= columns || c.priority >= 90) break;
    cols.splice(cols.indexOf(c), 1);
  }
  const ws = cols.map(colWidth);
  const pad = (s: string, w: number, right: boolean) => (right ? ' '.repeat(w - width(s)) + s : s + ' '.repeat(w - width(s)));
  const line = (cells: string[]) => cells.map((s, i) => pad(s, ws[i]!, cols[i]!.numeric)).join('  ').trimEnd();
  const out = [line(cols.map((c) => (c.short ? c.shortHeader : c.header))), ws.map((w) => '-'.repeat(w)).join('  ')];
  for (let r = 0; r < v.rows.length; r++) out.push(line(cols.map((c) => (c.short ? c.shortCells : c.cells)[r]!)));
  return out.join('\n');
}

/**
 * The end of `run`: the verdict table and its sentences fitted to `columns` (sentences word-wrapped
 * with a hanging indent); null (piped, no $COLUMNS): every column, one line per sentence.
 */
export function terminalVerdict(report: Report, columns: number | null): string {
  const v = buildVerdict(report);
  return ['Verdict', fitVerdictTable(v, columns ?? Infinity), '', ...v.sentences.flatMap((s) => hangingWrap(`- ${s}`, columns, 2))].join('\n');
}
