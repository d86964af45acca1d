/**
 * d2l's animated training curve (d2l.Animator in train_ch6) as two SVG panels that share the
 * epoch axis: the loss on its own scale (ticks at 1/2/2.5/5 × 10^k) and the accuracies on 0–100 %
 * with the chance line (10 classes: 10 %). Redrawn at every curve point (within epochs with
 * evalEverySteps, and at each epoch's end). The SVGs scale with their container (viewBox), so
 * they fit a 390 px phone without clipping.
 */
import { CHANCE_ACCURACY } from './chance.js';
import type { TrainCurvePoint } from './types.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 360;
const H = 230;
const M = { left: 44, right: 12, top: 34, bottom: 36 };

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

interface Series {
  key: 'trainLoss' | 'trainAccuracy' | 'testAccuracy';
  label: string;
  color: string;
  dash: string;
}

const LOSS: Series[] = [{ key: 'trainLoss', label: 'train loss', color: '#1f77b4', dash: '' }];
const ACCURACY: Series[] = [
  { key: 'trainAccuracy', label: 'train acc', color: '#c11574', dash: '6 4' },
  { key: 'testAccuracy', label: 'test acc', color: '#2ca02c', dash: '' },
];

/** Evenly spaced ticks from 0 to at least `max`, about `count` of them, at 1/2/2.5/5 × 10^k. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0) || !Number.isFinite(max)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  const n = Math.ceil(max / step - 1e-9);
  return Array.from({ length: n + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** A tick value with as many decimals as the tick step needs (0.5 → "1.5", 0.25 → "0.75"). */
function tickLabel(v: number, ticks: number[]): string {
  const step = ticks[1]! - ticks[0]!;
  const digits = [0, 1, 2, 3].find((d) => Math.abs(step * 10 ** d - Math.round(step * 10 ** d)) < 1e-9) ?? 3;
  return v.toFixed(digits);
}

function panel(title: string, id: string, series: Series[], points: TrainCurvePoint[], epochs: number, yTicks: number[], yLabel: (v: number) => string, chance: boolean): SVGElement {
  const xMax = Math.max(1, epochs);
  const yMax = yTicks[yTicks.length - 1]!;
  const px = (x: number) => M.left + ((W - M.left - M.right) * x) / xMax;
  const py = (y: number) => H - M.bottom - ((H - M.top - M.bottom) * Math.min(y, yMax)) / yMax;
  const svg = svgEl('svg', { id, class: 'train-panel-svg', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title} per epoch` });
  svg.append(svgEl('text', { x: M.left, y: 13, 'font-size': 12, 'font-weight': 600, fill: '#1d2430' }, title));
  svg.append(svgEl('rect', { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, fill: '#fff', stroke: '#d0d5dd' }));
  const xStep = xMax <= 12 ? 1 : Math.ceil(xMax / 10);
  for (let x = 0; x <= xMax; x += xStep) {
    svg.append(svgEl('line', { x1: px(x), x2: px(x), y1: M.top, y2: H - M.bottom, stroke: '#eef0f3' }));
    svg.append(svgEl('text', { x: px(x), y: H - M.bottom + 13, 'text-anchor': 'middle', 'font-size': 10, fill: '#475467' }, String(x)));
  }
  for (const y of yTicks) {
    svg.append(svgEl('line', { x1: M.left, x2: W - M.right, y1: py(y), y2: py(y), stroke: '#eef0f3' }));
    svg.append(svgEl('text', { x: M.left - 4, y: py(y) + 3, 'text-anchor': 'end', 'font-size': 10, fill: '#475467' }, yLabel(y)));
  }
  svg.append(svgEl('text', { x: (M.left + W - M.right) / 2, y: H - 6, 'text-anchor': 'middle', 'font-size': 11, fill: '#344054' }, 'epoch'));
  if (chance) {
    svg.append(svgEl('line', { x1: M.left, x2: W - M.right, y1: py(CHANCE_ACCURACY), y2: py(CHANCE_ACCURACY), stroke: '#b42318', 'stroke-dasharray': '2 3', class: 'chance-line' }));
    svg.append(svgEl('text', { x: W - M.right - 4, y: py(CHANCE_ACCURACY) - 4, 'text-anchor': 'end', 'font-size': 10, fill: '#b42318' }, 'chance (10 classes)'));
  }
  let legendX = M.left;
  let drawn = 0;
  for (const s of series) {
    const pts = points.filter((p) => p[s.key] !== null && Number.isFinite(p[s.key]));
    if (!pts.length) continue; // legends only for what is drawn
    drawn++;
    const d = pts.map((p, i) => `${i ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p[s.key]!).toFixed(1)}`).join(' ');
    svg.append(svgEl('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash, class: `series ${s.key}`, 'data-points': pts.length }));
    for (const p of pts) svg.append(svgEl('circle', { cx: px(p.x), cy: py(p[s.key]!), r: 2.2, fill: s.color }));
    svg.append(svgEl('line', { x1: legendX, x2: legendX + 24, y1: 24, y2: 24, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash }));
    svg.append(svgEl('text', { x: legendX + 28, y: 28, 'font-size': 11, fill: '#1d2430' }, s.label));
    legendX += 28 + 7 * s.label.length + 14;
  }
  if (!drawn) {
    svg.append(svgEl('text', { x: (M.left + W - M.right) / 2, y: (M.top + H - M.bottom) / 2, 'text-anchor': 'middle', 'font-size': 11, fill: '#98a2b3' }, points.length ? '' : 'waiting for the first evaluation'));
  }
  return svg;
}

/** Renders both panels into `host` (replacing what was there). */
export function renderTrainPlot(host: HTMLElement, points: TrainCurvePoint[], epochs: number): void {
  const losses = points.map((p) => p.trainLoss).filter(Number.isFinite);
  // Cross-entropy of a guess among 10 classes is ln 10 ≈ 2.30: the axis starts there at least.
  const lossTicks = niceTicks(Math.max(Math.log(10), ...losses));
  const accTicks = [0, 0.2, 0.4, 0.6, 0.8, 1];
  host.replaceChildren(
    panel('loss (mean cross-entropy of the epoch so far)', 'train-plot-loss', LOSS, points, epochs, lossTicks, (v) => tickLabel(v, lossTicks), false),
    panel('accuracy', 'train-plot-accuracy', ACCURACY, points, epochs, accTicks, (v) => `${Math.round(v * 100)} %`, true),
  );
}
