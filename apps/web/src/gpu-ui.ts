/** How the results table and charts mark GPU rows: the adapter, and timings taken on a software fallback. */
import { adapterNote } from './gpu-backends.js';
import type { BrowserResult } from './types.js';

const FALLBACK_TITLE = 'The GPU is emulated on the CPU (software rasterizer, e.g. SwiftShader): these timings say nothing about a real GPU.';

/** The adapter line under a GPU row's runtime, with the software-fallback mark. */
export function gpuNote(r: BrowserResult): HTMLElement {
  const note = document.createElement('div');
  note.className = r.softwareFallback ? 'adapter software-fallback' : 'adapter';
  note.textContent = adapterNote(r);
  if (r.softwareFallback) note.title = FALLBACK_TITLE;
  return note;
}

/** Chart label: the id, starred when its timings come from a software fallback. */
export function chartLabel(r: BrowserResult): string {
  return r.softwareFallback ? `${r.id} *` : r.id;
}

/** The footnote explaining the star, when any row ran on a software fallback. */
export function fallbackFootnote(results: BrowserResult[]): HTMLElement | null {
  const ids = results.filter((r) => r.softwareFallback && r.inference).map((r) => r.id);
  if (!ids.length) return null;
  const p = document.createElement('p');
  p.className = 'software-fallback-note';
  p.textContent = `* ${ids.join(', ')}: software fallback (the GPU is emulated on the CPU, e.g. SwiftShader) — timings shown but not representative of a GPU.`;
  return p;
}
