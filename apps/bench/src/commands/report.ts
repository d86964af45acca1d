import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { compareRatios, compareReports, formatComparison } from '../report/compare.js';
import { renderAll } from '../report/render.js';
import { readReport, validateReport } from '../report/schema.js';
import { mergeReports } from '../report/merge.js';
import { writeFileAtomic } from '../run/store.js';
import { UsageError } from '../errors.js';
import { claimOutputFolder } from '../safety/folder.js';

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
  if (opts.json) jsonLine({ type: 'compare', a: ra.file, b: rb.file, rows: compareReports(ra.report, rb.report), ratios: compareRatios(ra.report, rb.report) });
  else process.stdout.write(formatComparison(ra.report, ra.file, rb.report, rb.file) + '\n');
}

/** `lenet-bench merge A B … --out D`: one report from several machines or shards. */
export async function mergeCommand(inputs: string[], opts: { out: string; json?: boolean }): Promise<void> {
  if (inputs.length < 2) throw new UsageError('merge: give at least two report folders (or report.json files)');
  // The output folder is checked (and locked) before any input is read, like every command's.
  const lock = claimOutputFolder(userPath(opts.out), '--out');
  try {
    const dir = lock.dir;
    if (existsSync(join(dir, 'report.json'))) throw new UsageError(`--out ${dir} already holds a report; choose another folder`);
    const sources = [];
    for (const i of inputs) sources.push(await readReport(userPath(i)));
    const merged = mergeReports(sources);
    const plain = JSON.parse(JSON.stringify(merged)) as unknown;
    validateReport(plain, join(dir, 'report.json'));
    await writeFileAtomic(join(dir, 'report.json'), JSON.stringify(merged, null, 1) + '\n');
    const out = await renderAll(dir, merged);
    if (opts.json) jsonLine({ type: 'merge', inputs: sources.map((s) => s.file), report: join(dir, 'report.json'), ...out, rows: merged.results.map((r) => r.backend) });
    else process.stdout.write(`merged ${sources.length} reports (${merged.results.length} rows) into ${join(dir, 'report.json')}\n  also ${out.md} and ${out.html}\n`);
  } finally {
    lock.release();
  }
}
