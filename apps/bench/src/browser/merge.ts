/**
 * Browser results as report.json rows (schema version 1, unchanged): one `kind: "backend"` row
 * per backend that ran, named "<page backend id> @ Chromium <version>", inference-only
 * (trainingSkipped says why), with the browser in `runtime` and `versions`. Backends the
 * browser lacks are not rows (they are not failures): they go into `notes`. Failures are error
 * rows plus `errors` entries, as for Node cells.
 */
import { argmax } from '@lenet/core';
import { numClasses } from '@lenet/model';
import { compareLogits } from '../run/runner.js';
import { coldStartResult } from '../run/cold-start.js';
import type { AgreementInfo, BackendResult, Report } from '../run/types.js';
import type { BrowserInfo, BrowserResult, BrowserRun, PageBackendRow } from './types.js';

/** The run's float64 reference logits on its agreement subset (agreement/reference.json). */
export interface AgreementReference {
  info: AgreementInfo;
  logits: Float64Array;
  predictions: Int32Array;
}

export function agreementReference(saved: AgreementInfo & { logits: number[] }, classes: number): AgreementReference {
  const { logits, ...info } = saved;
  if (!Array.isArray(logits) || logits.length !== info.images * classes) {
    throw new Error(`agreement reference: expected ${info.images} x ${classes} logits, got ${Array.isArray(logits) ? logits.length : typeof logits}`);
  }
  const predictions = new Int32Array(info.images);
  for (let i = 0; i < info.images; i++) predictions[i] = argmax(logits, i * classes, classes);
  return { info, logits: Float64Array.from(logits), predictions };
}

export function rowName(r: Pick<BrowserResult, 'id'>, browser: BrowserInfo): string {
  return `${r.id} @ ${browser.name} ${browser.version}`;
}

export function browserTag(browser: BrowserInfo): string {
  return `${browser.name} ${browser.version}`;
}


/** What a page measurement (inference or training) puts in its report row, the same way for both. */
export function browserRowBase(r: PageBackendRow, name: string, browser: BrowserInfo, isolated: boolean, canTrain: boolean | null) {
  const where = `${r.where}${isolated ? ', cross-origin isolated' : ''}`;
  return {
    backend: name,
    kind: 'backend' as const,
    status: r.status === 'ok' ? ('ok' as const) : ('error' as const),
    package: r.package || null,
    description: r.description,
    canTrain,
    runtime: `${r.runtime ?? r.backend} in ${browserTag(browser)} (headless, ${where})`,
    // The browser once, under its own name; no "unknown" entries (e.g. plain's node version).
    versions: { ...Object.fromEntries(Object.entries(r.versions).filter(([k, v]) => k !== 'browser' && v !== 'unknown')), [browser.name.toLowerCase()]: browser.version },
    threads: r.threads,
    startedAt: r.startedAt,
    wallSeconds: r.wallSeconds,
  };
}

export function toRow(r: BrowserResult, run: BrowserRun, browser: BrowserInfo, weightsFile: string, ref: AgreementReference | null, classes: number): BackendResult {
  return {
    ...browserRowBase(r, rowName(r, browser), browser, run.crossOriginIsolated, null),
    training: null,
    trainingSkipped: `browser run (${browserTag(browser)}): inference only, on ${weightsFile}`,
    evaluation: r.evaluation,
    inference: r.inference,
    peakRssMB: null,
    agreement: ref && r.agreementLogits ? compareLogits(ref, r.agreementLogits, classes) : null,
    error: r.status === 'error' ? { phase: r.phase ?? 'browser', message: r.reason ?? 'failed' } : null,
    ...(r.adapter ? { adapter: r.adapter, softwareFallback: r.softwareFallback === true } : {}),
    // In-page cold start (--cold-starts): the same statistics as the Node cells' fresh processes.
    ...(r.coldStartSamples?.length ? { coldStart: coldStartResult(r.coldStartSamples) } : {}),
  };
}

export function summaryNote(run: BrowserRun, browser: BrowserInfo, weightsFile: string): string {
  const ran = run.results.filter((r) => r.status === 'ok').map((r) => r.id);
  return (
    `browser (${browserTag(browser)}, headless, ${browser.args.join(' ')}): ${ran.length ? ran.join(', ') : 'no backend'} ran on ` +
    `${run.testCount.toLocaleString('en-US')} ${run.dataset} test images with ${weightsFile} (${run.weights.model}); ` +
    `${run.crossOriginIsolated ? 'cross-origin isolated page (5 µs timer)' : 'page not cross-origin isolated (100 µs timer)'}, ` +
    `${run.inferenceSeconds} s of timing per batch size, ${run.startedAt} – ${run.finishedAt}`
  );
}

/**
 * Adds (or replaces, for the same browser version) the browser rows of `run` in `report`.
 * The Node cells, the configuration and the agreement section are left as they are.
 */
export function mergeBrowserRun(report: Report, run: BrowserRun, browser: BrowserInfo, weightsFile: string, ref: AgreementReference | null = null): Report {
  const classes = numClasses(report.config.modelSpec);
  const tag = browserTag(browser);
  // Training rows ("<id> training @ ...", training.ts) are replaced only by a training merge.
  const mine = (name: string) => name.endsWith(` @ ${tag}`) && !name.endsWith(` training @ ${tag}`);
  const rows = run.results.filter((r) => r.status !== 'unavailable').map((r) => toRow(r, run, browser, weightsFile, ref, classes));
  const unavailable = run.results.filter((r) => r.status === 'unavailable').map((r) => `browser (${tag}): ${r.id} unavailable: ${r.reason}`);
  return replaceBrowserRows(report, rows, mine, `browser (${tag}`, [summaryNote(run, browser, weightsFile), ...unavailable]);
}

/**
 * `report` with the rows (and their errors) whose names `mine` matches replaced by `rows`, and
 * the notes starting with `notePrefix` replaced by `notes`: a browser merge run again for the
 * same browser version replaces its own rows and leaves everything else as it was.
 */
export function replaceBrowserRows(report: Report, rows: BackendResult[], mine: (name: string) => boolean, notePrefix: string, notes: string[]): Report {
  return {
    ...report,
    updatedAt: new Date().toISOString(),
    results: [...report.results.filter((r) => !mine(r.backend)), ...rows],
    errors: [
      ...report.errors.filter((e) => !mine(e.backend)),
      ...rows.filter((r) => r.error).map((r) => ({ backend: r.backend, phase: r.error!.phase, message: r.error!.message })),
    ],
    notes: [...report.notes.filter((n) => !n.startsWith(notePrefix)), ...notes],
  };
}
