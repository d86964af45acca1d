/**
 * Fitting text to the terminal: the width to fit (a TTY's columns, else $COLUMNS, else none, so
 * piped output keeps one record per line for grep), and word-wrapping with a hanging indent
 * (wrap-ansi: word boundaries, hard breaks only inside words longer than a line, ANSI-safe).
 */
import wrapAnsi from 'wrap-ansi';

/** Columns to fit output to, or null for "do not wrap" (not a terminal and no $COLUMNS). */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout): number | null {
  if (stream.isTTY && stream.columns > 0) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : null;
}

/**
 * `text` in lines of at most `width` columns: the first line starts with `first` (already
 * printed, e.g. a table's leading cells), the others are indented by `indent` spaces.
 */
export function hangingWrap(text: string, width: number | null, indent: number, first = ''): string[] {
  if (width === null) return [first + text];
  const room = Math.max(20, width - indent);
  const pieces = wrapAnsi(text, room, { hard: true, trim: true }).split('\n');
  return pieces.map((p, i) => (i === 0 ? first + p : ' '.repeat(indent) + p));
}

/**
 * A left-aligned table whose last column is word-wrapped to fit `width` (the other columns are
 * short names and flags). Without a width, one line per row, as `table()` prints.
 */
export function tableWrappingLast(header: string[], rows: string[][], width: number | null): string[] {
  const cells = [header, ...rows];
  const last = header.length - 1;
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const indent = widths.slice(0, last).reduce((a, w) => a + w + 2, 0);
  const lastWidth = width === null ? widths[last]! : Math.min(widths[last]!, Math.max(20, width - indent));
  const lead = (r: string[]) => r.slice(0, last).map((c, i) => c.padEnd(widths[i]!)).join('  ') + '  ';
  const out = [lead(header) + header[last], widths.map((w, i) => '-'.repeat(i === last ? lastWidth : w)).join('  ')];
  for (const r of rows) out.push(...hangingWrap(r[last] ?? '', width, indent, lead(r)).map((l) => l.trimEnd()));
  return out;
}
