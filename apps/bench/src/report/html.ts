/** report.html: one self-contained offline page (inline CSS and SVG charts, no scripts, no links out). */
import type { Report } from '../run/types.js';
import { buildCharts, coldStartChart, renderSvg } from './charts.js';
import { buildVerdict, verdictColumns } from './verdict.js';
import { allTables, coldStartTable, environmentGroups, environmentLines, headerWarnings, indistinguishable, label, type Table } from './tables.js';

export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(t: Table, id?: string): string {
  const head = t.header.map((h, i) => `<th class="${t.numeric[i] ? 'n' : ''}">${esc(h)}</th>`).join('');
  const rows = t.rows.map((r) => `<tr>${r.map((c, i) => `<td class="${t.numeric[i] ? 'n' : ''}">${esc(c)}</td>`).join('')}</tr>`).join('\n');
  return [
    `<section${id ? ` id="${id}"` : ''}><h2>${esc(t.title)}</h2>`,
    t.caption ? `<p class="caption">${esc(t.caption)}</p>` : '',
    t.rows.length ? `<div class="scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>` : '<p class="empty">(no rows)</p>',
    '</section>',
  ].join('\n');
}

/** "10.00% — not comparable: …": the figure in bold, the reason in small type under it. */
const proseCell = (text: string) => {
  const m = /^(\S+)\s+(?:— )?(.+)$/.exec(text);
  return m ? `<strong>${esc(m[1]!)}</strong><br><span class="why">${esc(m[2]!)}</span>` : esc(text);
};

/** The verdict: sentences computed from the intervals, then one row per backend. */
function verdictSection(report: Report): string {
  const v = buildVerdict(report);
  const cols = verdictColumns(v);
  const head = cols.map((c) => `<th class="${c.numeric ? 'n' : ''}">${esc(c.header)}</th>`).join('');
  const cls = (c: (typeof cols)[number]) => (c.numeric ? 'n' : c.prose ? 'prose' : '');
  const rows = v.rows
    .map((r, i) => `<tr class="${r.comparable ? '' : 'flag'}">${cols.map((c) => `<td class="${cls(c)}">${c.prose ? proseCell(c.cells[i]!) : esc(c.cells[i]!)}</td>`).join('')}</tr>`)
    .join('\n');
  return [
    '<section id="verdict"><h2>Verdict</h2>',
    // The figure a sentence is about ("Fastest training:") in bold, so the eye finds each answer.
    `<ul class="sentences">${v.sentences.map((x) => `<li>${esc(x).replace(/^([^:]{1,60}:)/, '<strong>$1</strong>')}</li>`).join('')}</ul>`,
    v.rows.length ? `<div class="scroll"><table class="verdict"><thead><tr>${head}</tr></thead><tbody>\n${rows}\n</tbody></table></div>` : '<p class="empty">(no rows)</p>',
    '</section>',
  ].join('\n');
}

function confusionSection(report: Report): string {
  const classes = report.results.find((r) => r.evaluation)?.evaluation?.confusion.length ?? 0;
  if (!classes) return '';
  const blocks = report.results.filter((r) => r.evaluation).map((r) => {
    const m = r.evaluation!.confusion;
    const max = Math.max(1, ...m.flat());
    const head = `<tr><th>true \\ pred</th>${m.map((_, j) => `<th class="n">${j}</th>`).join('')}</tr>`;
    const rows = m
      .map((row, i) => `<tr><th>${i}</th>${row.map((v) => `<td class="n" style="background: rgba(76,120,168,${(v / max).toFixed(2)})">${v}</td>`).join('')}</tr>`)
      .join('');
    return `<details><summary>${esc(label(r))}: ${(r.evaluation!.accuracy * 100).toFixed(2)}% of ${r.evaluation!.count}</summary><table class="confusion">${head}${rows}</table></details>`;
  });
  return `<section id="confusion"><h2>Confusion matrices (rows: true class, columns: predicted)</h2>${blocks.join('\n')}</section>`;
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 1400px; padding: 0 16px; color: #222; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; max-width: 100%; } .scroll table { overflow-wrap: normal; }
ul.sentences { padding-left: 18px; margin: 6px 0 10px; font-size: 15px; } ul.sentences li { margin: 3px 0; }
table.verdict td { white-space: nowrap; } table.verdict th { vertical-align: bottom; } table.verdict .why { color: #8a5a00; font-size: 12px; } table.verdict td.prose { white-space: normal; min-width: 11em; max-width: 30em; } tr.flag td { background: #fff8e6; }
details.env > summary { cursor: pointer; font-weight: 600; margin: 18px 0 4px; } details.env h3 { font-size: 14px; margin: 10px 0 2px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 17px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 3px; }
.status { color: #555; } .caption { color: #555; margin: 4px 0 8px; } .empty { color: #888; font-style: italic; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; } th { background: #f4f4f4; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(660px, 100%), 1fr)); gap: 18px; }
figure.chart { margin: 0; border: 1px solid #e4e4e4; border-radius: 6px; padding: 8px; background: #fff; overflow-x: auto; }
figure.chart figcaption { font-weight: 600; margin-bottom: 4px; }
.confusion td { min-width: 2.6em; } details { margin: 4px 0; }
ul.env { color: #444; padding-left: 18px; } .warning { background: #fff4e5; border: 1px solid #f0b429; padding: 6px 10px; border-radius: 4px; } .errors td { color: #a00; }
/* Phones: last, so it overrides the rules above. */
@media (max-width: 700px) { body { margin: 12px auto; padding: 0 10px; } h1 { font-size: 18px; } .status { font-size: 12px; } .charts { grid-template-columns: 1fr; } figure.chart svg { max-width: 100%; height: auto; } }
`;

export async function renderHtml(report: Report): Promise<string> {
  const c = report.config;
  const charts = await Promise.all(
    buildCharts(report).map(async (ch) => {
      const body = ch.spec ? await renderSvg(ch.spec) : `<p class="empty">${esc(ch.empty ?? 'no data')}</p>`;
      return `<figure class="chart" id="chart-${ch.id}" data-chart="${ch.id}"><figcaption>${esc(ch.title)}</figcaption>${body}</figure>`;
    }),
  );
  const tables = allTables(report).map((t) => htmlTable(t, t.title.toLowerCase().replace(/[^a-z]+/g, '-')));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lenet-bench: ${esc(c.modelSpec.name)} on ${esc(c.dataset)} (${esc(c.profile)})</title>
<style>${CSS}</style>
</head>
<body>
<h1>lenet-bench: ${esc(c.modelSpec.name)} on ${esc(c.dataset)} (${esc(c.profile)} profile)</h1>
<p class="status">Status: <strong>${esc(report.status)}</strong>${report.pending.length ? ` (pending: ${esc(report.pending.join(', '))})` : ''} · updated ${esc(report.updatedAt)} · ${esc(report.tool.name)} ${esc(report.tool.version)} · schema ${esc(report.schema)} v${report.schemaVersion}</p>
${verdictSection(report)}
${headerWarnings(report).map((w) => `<p class="warning"><strong>Warning:</strong> ${esc(w)}</p>`).join('\n')}
<details class="env"><summary>Machine, method, noise and versions</summary>${environmentGroups(report).map((g) => `<h3>${esc(g.title)}</h3><ul class="env">${g.lines.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`).join('')}</details>
<section id="charts"><h2>Charts</h2><div class="charts">
${charts.join('\n')}
</div></section>
${tables.join('\n')}
${await coldStartSection(report)}
${confusionSection(report)}
${(() => {
    const same = indistinguishable(report);
    return same.length ? `<section id="indistinguishable"><h2>Not distinguishable</h2><p class="caption">These pairs cannot be ranked from this run (their 95% intervals overlap).</p><ul>${same.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>` : '';
  })()}
${report.notes.length ? `<section id="notes"><h2>Notes</h2><ul>${report.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></section>` : ''}
<p class="caption">Numbers from one run on one shared machine: compare ratios, not absolute values across machines. Raw samples and every field: report.json (schema: @lenet/bench schema/report.schema.json).</p>
</body>
</html>
`;
}

/** The cold-start table and its chart (empty when the run did not measure it). */
async function coldStartSection(report: Report): Promise<string> {
  const t = coldStartTable(report);
  const chart = coldStartChart(report);
  if (!t) return '';
  const figure = chart?.spec ? `<figure class="chart" id="chart-${chart.id}" data-chart="${chart.id}"><figcaption>${esc(chart.title)}</figcaption>${await renderSvg(chart.spec)}</figure>` : '';
  return htmlTable(t, 'cold-start').replace(/<\/section>$/, `${figure}</section>`);
}
