/** Building, converting and subsetting ImageSplits. Browser-safe. */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { CATALOG } from './catalog.js';
import { IdxError, parseIdx } from './idx.js';
import type { IdxArray } from './idx.js';
import type { DatasetName, ImageSplit, Split } from './types.js';

/**
 * pixel -> pixel/255 as float32, for every byte value. `PIXEL_TO_FLOAT[p]` is exactly
 * `Math.fround(p / 255)`, i.e. the same value as computing `p / 255` and storing it in a
 * Float32Array, so a table lookup gives bit-identical results to the division.
 */
export const PIXEL_TO_FLOAT: Float32Array = (() => {
  const t = new Float32Array(256);
  for (let p = 0; p < 256; p++) t[p] = p / 255;
  return t;
})();

export interface ImageSplitMeta {
  dataset: DatasetName;
  split: Split;
  /** Defaults to the catalog's class names for `dataset`. */
  classNames?: readonly string[];
  /** Names used in error messages; default the catalog's file names. */
  imagesFile?: string;
  labelsFile?: string;
  /** Expected image size; default the catalog's (28x28). */
  rows?: number;
  cols?: number;
  /** Expected number of samples; not checked if omitted. */
  count?: number;
}

/**
 * Parse and cross-check an images file (idx3 uint8, count x rows x cols) and a labels file
 * (idx1 uint8, count, every label < number of classes) into an ImageSplit. Both byte arrays
 * must already be decompressed. The split's arrays are views into the given bytes.
 */
export function parseImageSplit(
  imagesBytes: Uint8Array,
  labelsBytes: Uint8Array,
  meta: ImageSplitMeta,
): ImageSplit {
  const info = CATALOG[meta.dataset];
  if (info === undefined) throw new TypeError(`parseImageSplit: unknown dataset ${String(meta.dataset)}`);
  const catalogFiles = info.files[meta.split];
  const imagesFile = meta.imagesFile ?? catalogFiles.images.file;
  const labelsFile = meta.labelsFile ?? catalogFiles.labels.file;
  const classNames = meta.classNames ?? info.classNames;
  const rows = meta.rows ?? info.rows;
  const cols = meta.cols ?? info.cols;

  const images = parseIdx(imagesBytes, imagesFile);
  const labels = parseIdx(labelsBytes, labelsFile);
  expectUint8(images, imagesFile, 'images');
  expectUint8(labels, labelsFile, 'labels');
  if (images.dims.length !== 3) {
    throw new IdxError(
      imagesFile,
      'mismatch',
      `expected an images file of rank 3 (count x ${rows} x ${cols}), got rank ${images.dims.length} (${images.dims.join('x')})`,
    );
  }
  if (labels.dims.length !== 1) {
    throw new IdxError(
      labelsFile,
      'mismatch',
      `expected a labels file of rank 1 (count), got rank ${labels.dims.length} (${labels.dims.join('x')})`,
    );
  }
  const [count, r, c] = images.dims;
  if (r !== rows || c !== cols) {
    throw new IdxError(imagesFile, 'mismatch', `expected ${rows}x${cols} images, got ${r}x${c}`);
  }
  if (count === 0) throw new IdxError(imagesFile, 'mismatch', 'the file holds no images (count 0)');
  if (labels.dims[0] !== count) {
    throw new IdxError(
      labelsFile,
      'mismatch',
      `has ${labels.dims[0]} labels but ${imagesFile} has ${count} images`,
    );
  }
  if (meta.count !== undefined && count !== meta.count) {
    throw new IdxError(imagesFile, 'mismatch', `expected ${meta.count} images, got ${count}`);
  }
  const numClasses = classNames.length;
  const labelData = labels.data as Uint8Array;
  for (let i = 0; i < count; i++) {
    if (labelData[i] >= numClasses) {
      throw new IdxError(
        labelsFile,
        'mismatch',
        `label ${labelData[i]} at index ${i} is out of range (expected 0..${numClasses - 1})`,
      );
    }
  }
  return {
    dataset: meta.dataset,
    split: meta.split,
    count,
    rows,
    cols,
    images: images.data as Uint8Array,
    labels: labelData,
    classNames,
  };
}

function expectUint8(a: IdxArray, file: string, what: string): void {
  if (a.dtype !== 'uint8') {
    throw new IdxError(file, 'mismatch', `expected ${what} of type uint8 (code 0x08), got ${a.dtype}`);
  }
}

/** Throws a RangeError unless `split` is internally consistent (array lengths, label range). */
export function checkSplit(split: ImageSplit, where = 'split'): void {
  const { count, rows, cols } = split;
  for (const [k, v] of [
    ['count', count],
    ['rows', rows],
    ['cols', cols],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${where}: ${k} must be a non-negative integer, got ${v}`);
  }
  if (split.images.length !== count * rows * cols) {
    throw new RangeError(
      `${where}: images has ${split.images.length} bytes, expected count*rows*cols = ${count * rows * cols}`,
    );
  }
  if (split.labels.length !== count) {
    throw new RangeError(`${where}: labels has ${split.labels.length} entries, expected count = ${count}`);
  }
}

/**
 * Pixels of samples [start, start+count) as float32 pixel/255, sample-major (NCHW with C=1).
 * Returns a new array.
 */
export function splitToFloat(split: ImageSplit, start = 0, count = split.count - start): Float32Array {
  if (!Number.isInteger(start) || start < 0 || start > split.count) {
    throw new RangeError(`splitToFloat: start ${start} is outside 0..${split.count}`);
  }
  if (!Number.isInteger(count) || count < 0 || start + count > split.count) {
    throw new RangeError(
      `splitToFloat: count ${count} from start ${start} exceeds the ${split.count} samples of ${split.dataset}/${split.split}`,
    );
  }
  const px = split.rows * split.cols;
  const src = split.images;
  const out = new Float32Array(count * px);
  const lut = PIXEL_TO_FLOAT;
  const offset = start * px;
  for (let i = 0, n = out.length; i < n; i++) out[i] = lut[src[offset + i]];
  return out;
}

/** Number of samples of each class (length = classNames.length). */
export function classCounts(split: ImageSplit): number[] {
  const counts = new Array<number>(split.classNames.length).fill(0);
  for (let i = 0; i < split.count; i++) {
    const label = split.labels[i];
    if (label >= counts.length) {
      throw new RangeError(
        `${split.dataset}/${split.split}: label ${label} at index ${i} is out of range (expected 0..${counts.length - 1})`,
      );
    }
    counts[label]++;
  }
  return counts;
}

/**
 * A class-balanced subset of `limit` samples (all samples if limit >= count), deterministic in
 * `seed`, in the split's original order.
 *
 * Quotas: every class gets floor(limit / classes) if it has that many, classes with fewer give
 * all they have and the shortfall is spread over the others the same way (water-filling); the
 * remainder of the division goes one each to classes chosen in a seeded random order. Within a
 * class, which samples are kept is a seeded uniform choice (partial Fisher-Yates), so a subset
 * is not biased towards the start of the file. Returns new arrays (copies).
 */
export function stratifiedSubset(split: ImageSplit, limit: number, seed = 0): ImageSplit {
  checkSubsetArgs('stratifiedSubset', split, limit, seed);
  if (limit >= split.count) {
    return { ...split, images: split.images.slice(), labels: split.labels.slice() };
  }
  return pick(split, stratifiedKeep(split, limit, seed), 1);
}

/**
 * A stratified holdout (e.g. a validation split carved from the training split): `holdout` is
 * exactly stratifiedSubset(split, size, seed), `rest` every other sample, both in the split's
 * original order (copies). size must be in [1, count - 1].
 */
export function stratifiedHoldout(split: ImageSplit, size: number, seed = 0): { rest: ImageSplit; holdout: ImageSplit } {
  checkSubsetArgs('stratifiedHoldout', split, size, seed);
  if (size >= split.count) {
    throw new RangeError(`stratifiedHoldout: size must be below the split's ${split.count} samples (something must remain to train on), got ${size}`);
  }
  const keep = stratifiedKeep(split, size, seed);
  return { rest: pick(split, keep, 0), holdout: pick(split, keep, 1) };
}

function checkSubsetArgs(what: string, split: ImageSplit, limit: number, seed: number): void {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new RangeError(`${what}: ${what === 'stratifiedSubset' ? 'limit' : 'size'} must be a positive integer, got ${limit}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`${what}: seed must be an integer, got ${seed}`);
  checkSplit(split, `${what}(${split.dataset}/${split.split})`);
}

/** The samples with keep[i] === which, in order (copies). */
function pick(split: ImageSplit, keep: Uint8Array, which: 0 | 1): ImageSplit {
  let count = 0;
  for (let i = 0; i < split.count; i++) if (keep[i] === which) count++;
  const px = split.rows * split.cols;
  const images = new Uint8Array(count * px);
  const labels = new Uint8Array(count);
  let o = 0;
  for (let i = 0; i < split.count; i++) {
    if (keep[i] !== which) continue;
    images.set(split.images.subarray(i * px, (i + 1) * px), o * px);
    labels[o] = split.labels[i];
    o++;
  }
  return { ...split, count, images, labels };
}

/** stratifiedSubset's choice of `limit` < count samples: keep[i] = 1 for the chosen ones. */
function stratifiedKeep(split: ImageSplit, limit: number, seed: number): Uint8Array {
  const numClasses = split.classNames.length;
  const available = classCounts(split);
  const quota = balancedQuotas(available, limit);

  // Distribute the remainder: classes still below their availability, seeded order.
  const rng = xoroshiro128plus(seed);
  let assigned = quota.reduce((a, b) => a + b, 0);
  if (assigned < limit) {
    const classOrder = Array.from({ length: numClasses }, (_, k) => k);
    for (let i = numClasses - 1; i > 0; i--) {
      const j = uniformInt(rng, 0, i);
      [classOrder[i], classOrder[j]] = [classOrder[j], classOrder[i]];
    }
    for (const k of classOrder) {
      if (assigned === limit) break;
      if (quota[k] < available[k]) {
        quota[k]++;
        assigned++;
      }
    }
  }

  // Indices of each class, then a seeded partial shuffle picks quota[k] of them.
  const byClass: Uint32Array[] = available.map((n) => new Uint32Array(n));
  const fill = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.count; i++) {
    const k = split.labels[i];
    byClass[k][fill[k]++] = i;
  }
  const keep = new Uint8Array(split.count);
  for (let k = 0; k < numClasses; k++) {
    const idx = byClass[k];
    const q = quota[k];
    for (let i = 0; i < q; i++) {
      const j = uniformInt(rng, i, idx.length - 1);
      const t = idx[i];
      idx[i] = idx[j];
      idx[j] = t;
      keep[idx[i]] = 1;
    }
  }
  return keep;
}

/**
 * Water-filling: equal shares of `limit`, capped by what each class has; returns floor shares
 * (the sum may fall short of `limit` by less than the number of classes still open).
 */
function balancedQuotas(available: readonly number[], limit: number): number[] {
  const quota = new Array<number>(available.length).fill(0);
  let remaining = limit;
  let open = available.map((_, k) => k).filter((k) => available[k] > 0);
  while (remaining > 0 && open.length > 0) {
    const share = Math.floor(remaining / open.length);
    if (share === 0) break;
    const stillOpen: number[] = [];
    for (const k of open) {
      const take = Math.min(share, available[k] - quota[k]);
      quota[k] += take;
      remaining -= take;
      if (quota[k] < available[k]) stillOpen.push(k);
    }
    open = stillOpen;
  }
  return quota;
}
