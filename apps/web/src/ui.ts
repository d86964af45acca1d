/** DOM rendering: results table, SVG bar charts, image grid, feature maps, probability bars. */
import type { ImageSplit } from '@lenet/datasets';
import type { FeatureMaps } from './forward.js';
import { isNearChance } from './chance.js';
import { chartLabel, fallbackFootnote, gpuNote } from './gpu-ui.js';
import type { BrowserResult } from './types.js';

const SVG = 'http://www.w3.org/2000/svg';

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function svgEl(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v: number, digits: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export function renderTable(tbody: HTMLElement, results: BrowserResult[]): void {
  tbody.replaceChildren();
  for (const r of results) {
    const tr = el('tr', { class: r.status, 'data-backend': r.id });
    const e = r.evaluation;
    const i = r.inference;
    const status = r.status === 'ok' ? 'ok' : r.status === 'unavailable' ? `unavailable: ${r.reason}` : `error (${r.phase}): ${r.reason}`;
    const cells: [string, string][] = [
      [r.id, 'text'],
      [r.where, 'text'],
      [status, 'text status'],
      [e ? fmt(e.accuracy * 100, 2) + ' %' + (isNearChance(e.accuracy) ? ' ⚠ chance' : '') : '–', e && isNearChance(e.accuracy) ? 'accuracy near-chance' : 'accuracy'],
      [e ? fmt(e.loss, 4) : '–', ''],
      [e ? String(e.count) : '–', ''],
      [i ? fmt(i.batch1.p50Ms, 3) + ' ms' : '–', ''],
      [i ? fmt(i.batch1.p99Ms, 3) + ' ms' : '–', ''],
      [i ? fmt(i.batch256.imagesPerSecond, 0) : '–', 'throughput'],
      [r.runtime ?? '', 'runtime'],
    ];
    for (const [text, cls] of cells) tr.append(el('td', cls ? { class: cls } : {}, text));
    if (r.adapter) tr.lastElementChild!.append(gpuNote(r));
    tbody.append(tr);
  }
}

/** One horizontal bar chart; rows without a value are drawn as "unavailable"/"error". */
function barChart(title: string, rows: { label: string; value: number | null; note: string }[], unit: string, digits: number): HTMLElement {
  const width = 380;
  const labelW = 120;
  const rowH = 22;
  const height = rows.length * rowH + 8;
  const max = Math.max(1e-12, ...rows.map((r) => r.value ?? 0));
  // Scales down with its container (CSS width: 100%, max-width = the drawn width).
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, style: `max-width: ${width}px`, role: 'img', 'aria-label': title });
  rows.forEach((r, k) => {
    const y = 4 + k * rowH;
    svg.append(svgEl('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', 'font-size': 11, fill: '#344054' }, r.label));
    if (r.value === null) {
      svg.append(svgEl('text', { x: labelW + 4, y: y + 15, 'font-size': 11, fill: '#98a2b3' }, r.note));
      return;
    }
    const w = Math.max(1, ((width - labelW - 90) * r.value) / max);
    svg.append(svgEl('rect', { x: labelW, y: y + 3, width: w, height: rowH - 6, fill: '#2e90fa', rx: 2 }));
    svg.append(svgEl('text', { x: labelW + w + 4, y: y + 15, 'font-size': 11, fill: '#1d2430' }, `${fmt(r.value, digits)}${unit}`));
  });
  const fig = el('figure');
  fig.append(el('figcaption', {}, title), svg);
  return fig;
}

export function renderCharts(host: HTMLElement, results: BrowserResult[]): void {
  const note = (r: BrowserResult) => (r.status === 'unavailable' ? 'unavailable' : r.status === 'error' ? 'error' : '');
  host.replaceChildren(
    barChart('test accuracy', results.map((r) => ({ label: r.id, value: r.evaluation ? r.evaluation.accuracy * 100 : null, note: note(r) })), ' %', 2),
    barChart('batch-1 latency, p50 (lower is better)', results.map((r) => ({ label: chartLabel(r), value: r.inference ? r.inference.batch1.p50Ms : null, note: note(r) })), ' ms', 3),
    barChart('batch-256 throughput', results.map((r) => ({ label: chartLabel(r), value: r.inference ? r.inference.batch256.imagesPerSecond : null, note: note(r) })), ' img/s', 0),
  );
  const footnote = fallbackFootnote(results);
  if (footnote) host.append(footnote);
}

/** Draws a 2-D array of values into a canvas (grayscale, min..max scaled unless given). */
export function paintGray(canvas: HTMLCanvasElement, values: ArrayLike<number>, offset: number, w: number, h: number, range?: [number, number]): void {
  canvas.width = w;
  canvas.height = h;
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(w, h);
  let lo = range?.[0] ?? Infinity;
  let hi = range?.[1] ?? -Infinity;
  if (!range) {
    for (let i = 0; i < w * h; i++) {
      const v = values[offset + i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const span = hi - lo || 1;
  for (let i = 0; i < w * h; i++) {
    const g = Math.round((255 * (values[offset + i]! - lo)) / span);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

export function renderGrid(host: HTMLElement, split: ImageSplit, count: number, predicted: number[], onSelect: (index: number) => void): void {
  host.replaceChildren();
  const pixels = split.rows * split.cols;
  for (let i = 0; i < Math.min(count, split.count); i++) {
    const truth = split.labels[i]!;
    const fig = el('figure', { 'data-index': String(i), class: predicted[i] === truth ? 'right' : 'wrong' });
    const c = el('canvas');
    paintGray(c, split.images, i * pixels, split.cols, split.rows, [0, 255]);
    const cap = el('figcaption');
    cap.append(el('span', { class: 'pred' }, split.classNames[predicted[i]!] ?? '?'), el('br'), el('span', { class: 'true' }, split.classNames[truth]!));
    fig.append(c, cap);
    fig.title = `#${i}: predicted ${split.classNames[predicted[i]!]}, true ${split.classNames[truth]}`;
    fig.addEventListener('click', () => onSelect(i));
    host.append(fig);
  }
}

export function renderMaps(host: HTMLElement, maps: FeatureMaps[]): void {
  host.replaceChildren();
  for (const m of maps) {
    const block = el('div', { class: 'maps-layer' });
    const tiles = el('div', { class: 'tiles' });
    for (let c = 0; c < m.channels; c++) {
      const canvas = el('canvas', { title: `${m.label}, channel ${c}` });
      paintGray(canvas, m.data, c * m.height * m.width, m.width, m.height);
      tiles.append(canvas);
    }
    block.append(el('h3', {}, m.label), tiles);
    host.append(block);
  }
}

export function renderProbabilities(host: HTMLElement, probs: ArrayLike<number>, classNames: readonly string[]): void {
  const rowH = 22;
  const width = 360;
  const labelW = 90;
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k]! > probs[best]!) best = k;
  const height = probs.length * rowH + 4;
  const svg = svgEl('svg', { viewBox: `0 0 ${width} ${height}`, style: `max-width: ${width}px`, role: 'img', 'aria-label': 'class probabilities' });
  for (let k = 0; k < probs.length; k++) {
    const y = 2 + k * rowH;
    const w = Math.max(0.5, (width - labelW - 60) * probs[k]!);
    svg.append(svgEl('text', { x: labelW - 6, y: y + 15, 'text-anchor': 'end', 'font-size': 12, 'font-weight': k === best ? 700 : 400 }, classNames[k] ?? String(k)));
    svg.append(svgEl('rect', { x: labelW, y: y + 3, width: w, height: rowH - 6, fill: k === best ? '#12b76a' : '#98a2b3', rx: 2 }));
    svg.append(svgEl('text', { x: labelW + w + 4, y: y + 15, 'font-size': 11 }, `${fmt(probs[k]! * 100, 1)} %`));
  }
  host.replaceChildren(svg);
  host.dataset.best = classNames[best] ?? String(best);
}
