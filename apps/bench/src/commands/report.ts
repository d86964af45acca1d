import { dirname } from 'node:path';
import { jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { compareReports, formatComparison } from '../report/compare.js';
import { renderAll } from '../report/render.js';
import { readReport } from '../report/schema.js';

/** `lenet-bench report DIR`: re-render report.md and report.html from DIR/report.json. */
export async function reportCommand(dirArg: string, opts: { json?: boolean }): Promise<void> {
  const { report, file } = await readReport(userPath(dirArg));
  const out = await renderAll(dirname(file), report);
  if (opts.json) jsonLine({ type: 'report', report: file, ...out });
  else process.stdout.write(`re-rendered from ${file}:\n  ${out.md}\n  ${out.html}\n`);
}

/** `lenet-bench compare A B`: two reports side by side, ratios B/A. */
export async function compareCommand(a: string, b: string, opts: { json?: boolean }): Promise<void> {
  const ra = await readReport(userPath(a));
  const rb = await readReport(userPath(b));
  if (opts.json) jsonLine({ type: 'compare', a: ra.file, b: rb.file, rows: compareReports(ra.report, rb.report) });
  else process.stdout.write(formatComparison(ra.report, ra.file, rb.report, rb.file) + '\n');
}
