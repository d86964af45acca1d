/**
 * report.json (and report.md/html) of a run as it stands: assembled from a snapshot of the run
 * state, validated against the schema, written atomically — after every step, on a stop by an
 * error, and synchronously on SIGTERM / a second Ctrl-C.
 */
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { renderAll } from '../report/render.js';
import { renderMarkdown } from '../report/markdown.js';
import { validateReport } from '../report/schema.js';
import { writeFileAtomicSync } from '../safety/write.js';
import { isComplete } from './cells.js';
import type { RunContext } from './context.js';
import { computeComparisons } from './results.js';
import { readCells, writeFileAtomic } from './store.js';
import type { AgreementInfo, BackendResult, Report } from './types.js';
import { REPORT_SCHEMA_ID, REPORT_SCHEMA_VERSION } from './types.js';

/** The parts of the run state a report is made of. */
export interface ReportSnapshot {
  cells: Map<string, BackendResult>;
  agreement: AgreementInfo | null;
  /** performance.now() when this invocation started (wall seconds add to ctx.priorWallSeconds). */
  startedAt: number;
  noise: Report['noise'];
  peaks: Report['peaks'];
}

/** The report of the run as it stands, validated (NaN/Infinity already null, as in the file). */
function assembleReport(ctx: RunContext, s: ReportSnapshot, status: Report['status']): Report {
  const results = ctx.config.backends.filter((b) => s.cells.has(b)).map((b) => s.cells.get(b)!);
  const report: Report = {
    schema: REPORT_SCHEMA_ID,
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: ctx.tool,
    status,
    createdAt: ctx.createdAt,
    updatedAt: new Date().toISOString(),
    wallSeconds: ctx.priorWallSeconds + (performance.now() - s.startedAt) / 1000,
    environment: ctx.environment,
    config: ctx.config,
    agreement: s.agreement,
    results,
    pending: ctx.config.backends.filter((b) => !isComplete(s.cells.get(b))),
    errors: results.filter((r) => r.error).map((r) => ({ backend: r.backend, phase: r.error!.phase, message: r.error!.message })),
    notes: ctx.notes,
    noise: s.noise,
    comparisons: null,
    peaks: s.peaks,
  };
  report.comparisons = computeComparisons(report);
  // Round-trip through JSON first: NaN/Infinity become null exactly as in the file.
  const plain = JSON.parse(JSON.stringify(report)) as unknown;
  validateReport(plain, join(ctx.dir, 'report.json'));
  return plain;
}

/** Assembles, validates and writes report.json, report.md and report.html (`render` false: report.json only). */
export async function writeReport(ctx: RunContext, s: ReportSnapshot, status: Report['status'], render = true): Promise<Report> {
  const report = assembleReport(ctx, s, status);
  await writeFileAtomic(join(ctx.dir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
  if (render) await renderAll(ctx.dir, report);
  return report;
}

/**
 * report.json of a run that stopped on an error, status "interrupted". On a full disk the atomic
 * rewrite needs room for a second copy: report.md and report.html (rendered from report.json,
 * `lenet-bench report DIR` renders them again) are removed to make it, rather than leave a
 * report that says "running" for a process that is gone. Best effort: the error is thrown anyway.
 */
export async function writeStoppedReport(ctx: RunContext, s: ReportSnapshot): Promise<void> {
  // The rows as written to cells/ (what --resume keeps): a cell whose file could not be written
  // is reported as pending, not as finished.
  const cells = await readCells(ctx.dir).catch(() => s.cells);
  const written = { ...s, cells };
  try {
    await writeReport(ctx, written, 'interrupted', false);
  } catch (err) {
    if (((err as Error).cause as NodeJS.ErrnoException | undefined)?.code !== 'ENOSPC') return;
    ctx.notes.push('report.md and report.html were removed to make room on the full disk for this report.json; lenet-bench report DIR renders them again');
    await rm(join(ctx.dir, 'report.html'), { force: true });
    await rm(join(ctx.dir, 'report.md'), { force: true });
    await writeReport(ctx, written, 'interrupted', false).catch(() => undefined);
  }
}

/**
 * report.json (and report.md) of a process that exits now (SIGTERM, a second Ctrl-C): status
 * "interrupted" with a note saying how, written synchronously. report.html is re-rendered by
 * `lenet-bench report DIR` or the next --resume. Best effort: the process exits either way.
 */
export function writeInterruptedReportSync(ctx: RunContext, s: ReportSnapshot, how: string): void {
  try {
    ctx.notes.push(`${how} at ${new Date().toISOString()}: the running cells were killed, finished cells are kept; lenet-bench run --resume DIR continues`);
    const report = assembleReport(ctx, s, 'interrupted');
    writeFileAtomicSync(join(ctx.dir, 'report.json'), JSON.stringify(report, null, 1) + '\n');
    writeFileAtomicSync(join(ctx.dir, 'report.md'), renderMarkdown(report));
  } catch (err) {
    process.stderr.write(`warning: report.json could not be marked interrupted: ${(err as Error).message}\n`);
  }
}
