/** Downloading catalog files from mirrors: streamed, hash-checked, written atomically. */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetFileInfo } from '../catalog.js';
import { isGzip } from '../idx.js';
import { verifyBytes } from './files.js';

export interface DownloadProgress {
  /** Canonical file name, e.g. `train-images-idx3-ubyte`. */
  file: string;
  url: string;
  /** Bytes received so far (compressed, as sent). */
  received: number;
  /** Content-Length when the server sent one. */
  total?: number;
}

export interface DownloadOptions {
  onProgress?: (p: DownloadProgress) => void;
  /** Abort a request when no bytes arrive for this long (ms). */
  stallTimeoutMs: number;
  fetch: typeof globalThis.fetch;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
}

/** GET a URL into memory, reporting progress and aborting if the transfer stalls. */
async function fetchBytes(url: string, info: DatasetFileInfo, options: DownloadOptions): Promise<Uint8Array> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new Error(`no data for ${options.stallTimeoutMs} ms`)),
      options.stallTimeoutMs,
    );
  };
  arm();
  try {
    const res = await options.fetch(url, { signal: controller.signal });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${res.statusText}`.trim());
    if (res.body === null) throw new Error('empty response body');
    const length = Number(res.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : undefined;
    const chunks: Uint8Array[] = [];
    let received = 0;
    options.onProgress?.({ file: info.file, url, received, total });
    const reader = res.body.getReader();
    for (;;) {
      arm();
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.byteLength;
      options.onProgress?.({ file: info.file, url, received, total });
    }
    if (total !== undefined && received !== total) {
      throw new Error(`connection closed after ${received} of ${total} bytes`);
    }
    const out = new Uint8Array(received);
    let o = 0;
    for (const c of chunks) {
      out.set(c, o);
      o += c.byteLength;
    }
    return out;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Download one file, trying each mirror in turn (URL = mirror + file + '.gz'). The content is
 * hash-checked before anything is written; the compressed bytes then go to a temp file in
 * `dir` that is renamed to `<file>.gz` (atomic: readers never see a partial file).
 * Returns the final path; throws an Error listing every mirror's failure.
 */
export async function downloadFile(
  info: DatasetFileInfo,
  mirrors: readonly string[],
  dir: string,
  options: DownloadOptions,
): Promise<string> {
  const failures: string[] = [];
  for (const mirror of mirrors) {
    const url = mirror + info.file + '.gz';
    let raw: Uint8Array;
    try {
      raw = await fetchBytes(url, info, options);
      verifyBytes(raw, info, url);
    } catch (err) {
      failures.push(`${url}: ${describe(err)}`);
      continue;
    }
    await mkdir(dir, { recursive: true });
    const final = join(dir, isGzip(raw) ? `${info.file}.gz` : info.file);
    const temp = join(dir, `.${info.file}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
    try {
      await writeFile(temp, raw);
      await rename(temp, final);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    return final;
  }
  if (mirrors.length === 0) failures.push('no mirrors configured');
  throw new Error(`could not download ${info.file}:\n      ${failures.join('\n      ')}`);
}
