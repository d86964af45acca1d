/**
 * d2l's animated training curve (d2l.Animator in train_ch6) as SVG: x = epochs, y in [0, 1] or
 * up to the largest loss; train loss (solid), train acc (dashed), test acc (dotted), redrawn
 * at every curve point (within epochs with evalEverySteps, and at each epoch's end).
 */
import type { TrainCurvePoint } from './types.js';

const SVG = 'http://www.w3.org/2000/svg';
const W = 520;
const H = 300;
const M = { left: 44, right: 12, top: 12, bottom: 56 };

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const SERIES = [
  { key: 'trainLoss', label: 'train loss', color: '#1f77b4', dash: '' },
  { key: 'trainAccuracy', label: 'train acc', color: '#d62ad6', dash: '6 4' },
  { key: 'testAccuracy', label: 'test acc', color: '#2ca02c', dash: '2 3' },
] as const;

/** Renders the curve into `host` (replacing what was there). */
export function renderTrainPlot(host: HTMLElement, points: TrainCurvePoint[], epochs: number): void {
  const xMax = Math.max(1, epochs);
  const finite = points.flatMap((p) => [p.trainLoss, p.trainAccuracy ?? 0, p.testAccuracy]).filter(Number.isFinite);
  const yMax = Math.max(1, ...finite);
  const px = (x: number) => M.left + ((W - M.left - M.right) * x) / xMax;
  const py = (y: number) => H - M.bottom - ((H - M.top - M.bottom) * y) / yMax;
  const svg = svgEl('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'training curve: train loss, train accuracy, test accuracy per epoch', id: 'train-plot-svg' });
  svg.append(svgEl('rect', { x: M.left, y: M.top, width: W - M.left - M.right, height: H - M.top - M.bottom, fill: '#fff', stroke: '#d0d5dd' }));
  const xStep = xMax <= 12 ? 1 : Math.ceil(xMax / 10);
  for (let x = 0; x <= xMax; x += xStep) {
    svg.append(svgEl('line', { x1: px(x), x2: px(x), y1: M.top, y2: H - M.bottom, stroke: '#eef0f3' }));
    svg.append(svgEl('text', { x: px(x), y: H - M.bottom + 14, 'text-anchor': 'middle', 'font-size': 10, fill: '#475467' }, String(x)));
  }
  const yTicks = yMax <= 1 ? [0, 0.2, 0.4, 0.6, 0.8, 1] : Array.from({ length: 6 }, (_, i) => (yMax * i) / 5);
  for (const y of yTicks) {
    svg.append(svgEl('line', { x1: M.left, x2: W - M.right, y1: py(y), y2: py(y), stroke: '#eef0f3' }));
    svg.append(svgEl('text', { x: M.left - 4, y: py(y) + 3, 'text-anchor': 'end', 'font-size': 10, fill: '#475467' }, y.toFixed(1)));
  }
  svg.append(svgEl('text', { x: (M.left + W - M.right) / 2, y: H - M.bottom + 28, 'text-anchor': 'middle', 'font-size': 11, fill: '#344054' }, 'epoch'));
  SERIES.forEach((s, k) => {
    const pts = points.filter((p) => p[s.key] !== null && Number.isFinite(p[s.key]));
    if (pts.length) {
      const d = pts.map((p, i) => `${i ? 'L' : 'M'}${px(p.x).toFixed(1)},${py(p[s.key]!).toFixed(1)}`).join(' ');
      svg.append(svgEl('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash, class: `series ${s.key}`, 'data-points': pts.length }));
      for (const p of pts) svg.append(svgEl('circle', { cx: px(p.x), cy: py(p[s.key]!), r: 2.2, fill: s.color }));
    }
    const lx = M.left + 8 + k * 120;
    const ly = H - 12;
    svg.append(svgEl('line', { x1: lx, x2: lx + 26, y1: ly - 4, y2: ly - 4, stroke: s.color, 'stroke-width': 2, 'stroke-dasharray': s.dash }));
    svg.append(svgEl('text', { x: lx + 31, y: ly, 'font-size': 11, fill: '#1d2430' }, s.label));
  });
  host.replaceChildren(svg);
}
