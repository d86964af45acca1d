import type { DatasetName, ImageSplit } from '@lenet/datasets';
import { loadData } from '../data.js';
import { int, jsonLine, table } from '../format.js';

function perClass(split: ImageSplit): number[] {
  const counts = new Array<number>(split.classNames.length).fill(0);
  for (let i = 0; i < split.count; i++) counts[split.labels[i]]++;
  return counts;
}

function meanStd(split: ImageSplit): { mean: number; std: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < split.images.length; i++) {
    const v = split.images[i] / 255;
    s += v;
    s2 += v * v;
  }
  const mean = s / split.images.length;
  return { mean, std: Math.sqrt(s2 / split.images.length - mean * mean) };
}

export async function dataCommand(opts: { dataset: DatasetName; dataDir?: string; json?: boolean }): Promise<void> {
  const { train, test, source } = await loadData(opts.dataset, { dataDir: opts.dataDir, quiet: opts.json });
  const splits = [train, test].map((s) => ({
    split: s.split,
    count: s.count,
    rows: s.rows,
    cols: s.cols,
    perClass: perClass(s),
    pixels: meanStd(s),
  }));
  if (opts.json) {
    jsonLine({ dataset: opts.dataset, source, classNames: train.classNames, splits });
    return;
  }
  const out: string[] = [];
  out.push(`dataset  ${opts.dataset}`);
  out.push(`source   ${source.kind}: ${source.dir}`);
  out.push('');
  out.push(table(['file', 'sha256 (decompressed, verified)'], source.files.map((f) => [f.file, f.sha256]), ['l', 'l']));
  out.push('');
  out.push(
    table(
      ['split', 'images', 'size', 'pixel mean', 'pixel std'],
      splits.map((s) => [s.split, int(s.count), `${s.rows}x${s.cols}`, s.pixels.mean.toFixed(4), s.pixels.std.toFixed(4)]),
    ),
  );
  out.push('');
  out.push(
    table(
      ['class', 'name', 'train', 'test'],
      train.classNames.map((name, c) => [String(c), name, int(splits[0].perClass[c]), int(splits[1].perClass[c])]),
      ['r', 'l', 'r', 'r'],
    ),
  );
  process.stdout.write(out.join('\n') + '\n');
}
