/** Node helpers: gunzip, SHA-256, reading and verifying IDX files. */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { constants, gunzipSync, inflateRawSync } from 'node:zlib';
import { IdxError, isGzip, parseIdx } from '../idx.js';
import type { IdxArray } from '../idx.js';

/** A file whose decompressed content does not have the SHA-256 the catalog expects. */
export class ChecksumError extends Error {
  override name = 'ChecksumError';
  constructor(
    /** Canonical file name, e.g. `train-images-idx3-ubyte`. */
    readonly file: string,
    /** Expected SHA-256 (hex) of the decompressed content. */
    readonly expected: string,
    /** Actual SHA-256 (hex) of the decompressed content. */
    readonly actual: string,
    /** Where the bytes came from (path or URL). */
    readonly path: string,
  ) {
    super(
      `Checksum mismatch for ${file} (${path}): expected SHA-256 ${expected} of the decompressed ` +
        `content, got ${actual}. The file is corrupt, truncated or not the official one; it was not used.`,
    );
  }
}

/** Lowercase hex SHA-256 of the bytes (node:crypto; ~1-2 GB/s). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Decompress if the bytes start with the gzip magic (1f 8b), else return them unchanged.
 * A corrupt or truncated gzip stream throws IdxError 'bad-gzip' naming `file`.
 */
export function gunzipIfNeeded(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (err) {
    throw new IdxError(file, 'bad-gzip', `not a valid gzip stream (${(err as Error).message})`);
  }
}

/** Read an IDX file (raw or gzipped) and parse it; errors name the path. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  const raw = await readFile(path);
  return parseIdx(gunzipIfNeeded(raw, path), path);
}

export interface VerifiedBytes {
  /** Decompressed content. */
  bytes: Uint8Array;
  sha256: string;
  path: string;
}

/**
 * Read a file (raw or gzipped), decompress it and check the SHA-256 of the content.
 * Throws ChecksumError on a mismatch, IdxError on a bad gzip stream, and fs errors as they come.
 */
export async function readVerifiedFile(
  path: string,
  expected: { file: string; sha256: string },
): Promise<VerifiedBytes> {
  const raw = await readFile(path);
  return verifyBytes(raw, expected, path);
}

/** Decompress (if gzipped) and check the content hash; `where` names the source in errors. */
export function verifyBytes(
  raw: Uint8Array,
  expected: { file: string; sha256: string },
  where: string,
): VerifiedBytes {
  let bytes: Uint8Array;
  try {
    bytes = gunzipIfNeeded(raw, where);
  } catch (err) {
    // A flipped byte usually breaks only the gzip trailer's CRC: the content still inflates, and
    // its hash is what the user needs to see (expected vs actual), not "not a valid gzip stream".
    const content = err instanceof IdxError ? inflateIgnoringTrailer(raw) : null;
    if (content === null) {
      if (err instanceof IdxError) throw new IdxError(where, 'bad-gzip', `${err.problem}; expected a gzip of the content with SHA-256 ${expected.sha256}`);
      throw err;
    }
    throw new ChecksumError(expected.file, expected.sha256, sha256Hex(content), where);
  }
  const sha256 = sha256Hex(bytes);
  if (sha256 !== expected.sha256) throw new ChecksumError(expected.file, expected.sha256, sha256, where);
  return { bytes, sha256, path: where };
}

/**
 * The deflate payload of a gzip member inflated without the trailer's CRC and length checks
 * (RFC 1952 header: 10 bytes, then optional extra, name, comment and header CRC); null when the
 * payload itself does not inflate.
 */
function inflateIgnoringTrailer(gz: Uint8Array): Uint8Array | null {
  const flags = gz[3] ?? 0;
  let at = 10;
  if (flags & 4) at += 2 + ((gz[at] ?? 0) | ((gz[at + 1] ?? 0) << 8));
  if (flags & 8) while (at < gz.length && gz[at++] !== 0);
  if (flags & 16) while (at < gz.length && gz[at++] !== 0);
  if (flags & 2) at += 2;
  try {
    const out = inflateRawSync(gz.subarray(at), { finishFlush: constants.Z_SYNC_FLUSH });
    // Only a complete stream counts: its length must match the trailer's ISIZE (a truncated file
    // inflates partly too, and is reported as a bad gzip stream, not as a checksum mismatch).
    const n = gz.length;
    const isize = n >= 4 ? ((gz[n - 4]! | (gz[n - 3]! << 8) | (gz[n - 2]! << 16) | (gz[n - 1]! << 24)) >>> 0) : -1;
    if (isize !== out.byteLength % 2 ** 32) return null;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch {
    return null;
  }
}
