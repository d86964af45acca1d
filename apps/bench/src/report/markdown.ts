/** report.md: tables a reader can paste into an issue. */
import type { Report } from '../run/types.js';
import { buildVerdict, verdictColumns } from './verdict.js';
import { allTables, coldStartTable, environmentGroups, environmentLines, headerWarnings, indistinguishable, type Table } from './tables.js';

/**
 * Text from the run (backend, model and file names, error messages, notes) is escaped for
 * report.md: Markdown renderers pass raw HTML through, so a name like `<script>` would run.
 */
export const escMd = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Also Markdown's own syntax (emphasis, code, links), for names in running text such as the heading. */
export const escMdText = (s: string) => escMd(s).replace(/[\\`*_[\]~|!]/g, '\\$&');

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** A Markdown table; `html: true` (report.md) also escapes HTML, the terminal copy does not. */
export function markdownTable(t: Table, opts: { html?: boolean } = {}): string {
  const c = opts.html ? (s: string) => cell(escMd(s)) : cell;
  const head = `| ${t.header.map(c).join(' | ')} |`;
  const sep = `|${t.numeric.map((n) => (n ? '---:' : ':---')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${r.map(c).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}

/** The verdict first: one row per backend and the sentences computed from it. */
function verdictMarkdown(report: Report): string[] {
  const v = buildVerdict(report);
  const cols = verdictColumns(v);
  const table: Table = { title: 'Verdict', header: cols.map((c) => c.header), numeric: cols.map((c) => c.numeric), rows: v.rows.map((_, i) => cols.map((c) => c.cells[i]!)) };
  return ['## Verdict', '', ...v.sentences.map((x) => `- ${escMdText(x)}`), '', v.rows.length ? markdownTable(table, { html: true }) : '_(no rows)_', ''];
}

export function renderMarkdown(report: Report): string {
  const c = report.config;
  const out: string[] = [
    `# lenet-bench: ${escMdText(c.modelSpec.name)} on ${c.dataset} (${c.profile} profile)`,
    '',
    `Status: **${report.status}**${report.pending.length ? ` (pending: ${escMd(report.pending.join(', '))})` : ''} · ${report.updatedAt} · ` +
      `${escMd(report.tool.name)} ${escMd(report.tool.version)} · report schema ${report.schema} v${report.schemaVersion}`,
    '',
    // The answer first; the warnings that qualify it right below it.
    ...verdictMarkdown(report),
    ...headerWarnings(report).map((w) => `> **Warning:** ${escMd(w)}\n`),
    '## Machine, method, noise and versions',
    '',
    ...environmentGroups(report).flatMap((g) => [`**${g.title}**`, '', ...g.lines.map((l) => `- ${escMd(l)}`), '']),
  ];
  for (const t of allTables(report)) {
    out.push(`## ${escMd(t.title)}`, '');
    if (t.caption) out.push(escMd(t.caption), '');
    out.push(t.rows.length ? markdownTable(t, { html: true }) : '_(no rows)_', '');
  }
  out.push(...coldStartMarkdown(report));
  const same = indistinguishable(report);
  if (same.length) out.push('## Not distinguishable', '', 'These pairs cannot be ranked from this run (their 95% intervals overlap):', '', ...same.map((n) => `- ${escMd(n)}`), '');
  if (report.notes.length) out.push('## Notes', '', ...report.notes.map((n) => `- ${escMd(n)}`), '');
  out.push('Numbers from one run on one shared machine: compare ratios, not absolute values across machines.', '');
  return out.join('\n');
}

/** The cold-start section (empty when the run did not measure it). */
function coldStartMarkdown(report: Report): string[] {
  const t = coldStartTable(report);
  return t ? [`## ${escMd(t.title)}`, '', escMd(t.caption ?? ''), '', markdownTable(t, { html: true }), ''] : [];
}
