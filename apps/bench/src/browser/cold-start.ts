/**
 * `lenet-bench browser --cold-starts N`: the page times each backend that ran in N fresh
 * documents (RunOptions.coldStarts, apps/web/src/cold-start.ts); the samples become the row's
 * `coldStart` (merge.ts, the statistics of the Node cells: run/cold-start.ts) and these lines.
 */
import { fixed, table } from '../format.js';
import { coldStartResult } from '../run/cold-start.js';
import type { Interval } from '../stats/intervals.js';
import { rowName } from './merge.js';
import type { BrowserInfo, BrowserResult } from './types.js';

const ms = (iv: Interval | null) => (iv ? fixed(iv.estimate, iv.estimate < 10 ? 1 : 0) : '-');

/** The terminal's cold-start table: medians per phase over the fresh documents, in ms. */
export function coldStartLines(results: BrowserResult[], browser: BrowserInfo): string {
  const measured = results.filter((r) => r.coldStartSamples !== undefined);
  if (!measured.length) return 'cold start: no backend ran, nothing measured\n';
  const rows = measured.map((r) => {
    const c = coldStartResult(r.coldStartSamples ?? []);
    if (!c) return [rowName(r, browser), '0', '-', '-', '-', '-', '-'];
    return [rowName(r, browser), String(c.processes), ms(c.importMs), ms(c.sessionMs), ms(c.firstPredictMs), ms(c.toFirstPredictionMs), ms(c.firstStepMs)];
  });
  const counts = [...new Set(measured.map((r) => r.coldStartSamples?.length ?? 0))].join('/');
  return (
    `cold start in fresh page documents (${counts} per backend), medians in ms:\n\n` +
    table(['backend', 'samples', 'import', 'session', 'first predict', 'to first prediction', 'first step'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r']) +
    '\n' +
    measured.filter((r) => r.coldStartError).map((r) => `  ${r.id} cold start failed: ${r.coldStartError}\n`).join('')
  );
}
