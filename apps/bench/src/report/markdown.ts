/** report.md: tables a reader can paste into an issue. */
import type { Report } from '../run/types.js';
import { allTables, environmentLines, headerWarnings, indistinguishable, type Table } from './tables.js';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function markdownTable(t: Table): string {
  const head = `| ${t.header.map(cell).join(' | ')} |`;
  const sep = `|${t.numeric.map((n) => (n ? '---:' : ':---')).join('|')}|`;
  const rows = t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`);
  return [head, sep, ...rows].join('\n');
}

export function renderMarkdown(report: Report): string {
  const c = report.config;
  const out: string[] = [
    `# lenet-bench: ${c.modelSpec.name} on ${c.dataset} (${c.profile} profile)`,
    '',
    `Status: **${report.status}**${report.pending.length ? ` (pending: ${report.pending.join(', ')})` : ''} · ${report.updatedAt} · ` +
      `${report.tool.name} ${report.tool.version} · report schema ${report.schema} v${report.schemaVersion}`,
    '',
    ...headerWarnings(report).map((w) => `> **Warning:** ${w}\n`),
    ...environmentLines(report).map((l) => `- ${l}`),
    '',
  ];
  for (const t of allTables(report)) {
    out.push(`## ${t.title}`, '');
    if (t.caption) out.push(t.caption, '');
    out.push(t.rows.length ? markdownTable(t) : '_(no rows)_', '');
  }
  const same = indistinguishable(report);
  if (same.length) out.push('## Not distinguishable', '', 'These pairs cannot be ranked from this run (their 95% intervals overlap):', '', ...same.map((n) => `- ${n}`), '');
  if (report.notes.length) out.push('## Notes', '', ...report.notes.map((n) => `- ${n}`), '');
  out.push('Numbers from one run on one shared machine: compare ratios, not absolute values across machines.', '');
  return out.join('\n');
}
