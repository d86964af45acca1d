/**
 * The page's cold-start table (RunOptions.coldStarts): per backend the median of each phase over
 * its fresh documents, with the range, and a stacked bar of the median phases in order.
 */
import type { BrowserResult, PageColdStartSample } from '@lenet/browser-protocol';
import { medianOf } from './cold-start-runner.js';
import { el } from './ui.js';

const PHASES: { key: keyof Omit<PageColdStartSample, 'endsMs'>; label: string; color: string }[] = [
  { key: 'importMs', label: 'import + available()', color: '#2e90fa' },
  { key: 'sessionMs', label: 'createSession', color: '#12b76a' },
  { key: 'firstPredictMs', label: 'first predict (batch 1)', color: '#f79009' },
  { key: 'firstStepMs', label: 'first training step', color: '#9e77ed' },
];

const ms = (v: number) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(1));

function cell(samples: PageColdStartSample[], pick: (s: PageColdStartSample) => number | null): string {
  const values = samples.map(pick).filter((v): v is number => v !== null);
  if (!values.length) return '–';
  const m = medianOf(values)!;
  return values.length > 1 ? `${ms(m)} [${ms(Math.min(...values))}–${ms(Math.max(...values))}]` : ms(m);
}

export function renderColdStarts(host: HTMLElement, results: BrowserResult[]): void {
  const rows = results.filter((r) => r.coldStartSamples !== undefined);
  host.replaceChildren();
  host.hidden = rows.length === 0;
  if (!rows.length) return;
  const counts = [...new Set(rows.map((r) => r.coldStartSamples!.length))].join('/');
  host.append(el('h3', {}, `Cold start: ${counts} fresh documents per backend, median [min–max] ms`));
  const table = el('table', { id: 'cold-start-table' });
  const head = el('tr');
  for (const h of ['backend', 'import + available()', 'createSession', 'first predict', 'first step', 'to first prediction', 'median phases']) head.append(el('th', {}, h));
  table.append(el('thead'), el('tbody'));
  table.tHead!.append(head);
  const total = (s: PageColdStartSample) => s.importMs + s.sessionMs + s.firstPredictMs;
  const longest = Math.max(1, ...rows.map((r) => PHASES.reduce((a, p) => a + (medianOf(r.coldStartSamples!.map((s) => s[p.key])) ?? 0), 0)));
  for (const r of rows) {
    const s = r.coldStartSamples!;
    const tr = el('tr', { 'data-backend': r.id, class: r.coldStartError ? 'error' : '' });
    tr.append(el('td', { class: 'text' }, r.id));
    if (!s.length) {
      const td = el('td', { class: 'text', colspan: '6' }, `not measured: ${r.coldStartError ?? 'no sample'}`);
      tr.append(td);
    } else {
      for (const p of PHASES) tr.append(el('td', {}, cell(s, (x) => x[p.key])));
      tr.append(el('td', {}, cell(s, total)));
      const bar = el('td', { class: 'cold-start-bar' });
      for (const p of PHASES) {
        const v = medianOf(s.map((x) => x[p.key]));
        if (v === null) continue;
        bar.append(el('span', { style: `width:${((v / longest) * 100).toFixed(2)}%;background:${p.color}`, title: `${p.label}: ${ms(v)} ms` }));
      }
      tr.append(bar);
    }
    table.tBodies[0]!.append(tr);
  }
  const scroll = el('div', { class: 'table-scroll' });
  scroll.append(table);
  host.append(scroll);
  const legend = el('p', { class: 'cold-start-legend' });
  for (const p of PHASES) {
    const key = el('span', { class: 'swatch', style: `background:${p.color}` });
    legend.append(key, ` ${p.label}  `);
  }
  host.append(legend);
  host.append(
    el(
      'p',
      { class: 'cold-start-note' },
      'Each sample is a new iframe document (cold-start.html): the backend package is imported with import(), its runtime loaded and initialised (available()), a session created on the loaded weights, ' +
        'then the first batch-1 prediction and the first training step on the first 128 test images. Every backend runs on that document’s main thread (plain too). The files come from the browser’s cache after the first load. ' +
        'GPU rows on a software fallback (SwiftShader) say nothing about a GPU’s start-up.',
    ),
  );
}
