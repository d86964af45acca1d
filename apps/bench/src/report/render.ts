/** Writes report.md and report.html next to report.json (atomically). */
import { join } from 'node:path';
import type { Report } from '../run/types.js';
import { writeFileAtomic } from '../run/store.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

export async function renderAll(dir: string, report: Report): Promise<{ md: string; html: string }> {
  const md = join(dir, 'report.md');
  const html = join(dir, 'report.html');
  await writeFileAtomic(md, renderMarkdown(report));
  await writeFileAtomic(html, await renderHtml(report));
  return { md, html };
}
