/** Loading datasets for commands, with a download progress line and optional subsets. */
import { stratifiedSubset, type ImageSplit, type DatasetName } from '@lenet/datasets';
import { loadDataset } from '@lenet/datasets/node';
import { userPath } from './paths.js';

export interface LoadedData {
  train: ImageSplit;
  test: ImageSplit;
  source: Awaited<ReturnType<typeof loadDataset>>['source'];
}

export async function loadData(name: DatasetName, opts: { dataDir?: string; limit?: number; quiet?: boolean }): Promise<LoadedData> {
  let lastReport = 0;
  const data = await loadDataset(name, {
    dataDir: opts.dataDir ? userPath(opts.dataDir) : undefined,
    onProgress: opts.quiet
      ? undefined
      : (p) => {
          const now = Date.now();
          if (now - lastReport < 1000 && p.received !== p.total) return;
          lastReport = now;
          const total = p.total ? ` of ${(p.total / 1e6).toFixed(1)} MB` : '';
          process.stderr.write(`downloading ${p.file}: ${(p.received / 1e6).toFixed(1)} MB${total}\n`);
        },
  });
  // Say so when a place the user named, or a file we found, was passed over (bad hash, corrupt,
  // missing): silently falling back to another copy would hide the mistake.
  if (!opts.quiet) {
    for (const a of data.rejected) {
      const named = (a.kind === 'data-dir' || a.kind === 'env') && a.kind !== data.source.kind;
      if (named || a.errors.length > 0) process.stderr.write(`note: skipped ${a.kind} ${a.dir ?? ''}: ${a.reason}\n`);
    }
  }
  if (!opts.limit) return data;
  return {
    source: data.source,
    train: data.train.count > opts.limit ? stratifiedSubset(data.train, opts.limit, 0) : data.train,
    test: data.test.count > opts.limit ? stratifiedSubset(data.test, opts.limit, 0) : data.test,
  };
}
