/** Minibatches for training and evaluation. Browser-safe. */
import { epochOrderInto } from './order.js';
import { PIXEL_TO_FLOAT, checkSplit } from './split.js';
import type { Batch, ImageSplit } from './types.js';

export interface BatcherOptions {
  batchSize: number;
  /** Seed of the per-epoch order (see epochOrder). Default 0. */
  seed?: number;
  /** Visit samples in seeded random order (default true) or in file order. */
  shuffle?: boolean;
  /** What to do with the last count % batchSize samples: a smaller final batch (default) or drop them. */
  lastBatch?: 'partial' | 'drop';
}

/**
 * Turns an ImageSplit into batches: x = pixels/255 as float32 NCHW (C=1), y = int32 labels.
 *
 * The same Batch object and the same x/y/indices buffers are reused for every batch (no
 * allocation per batch): consume or copy a batch before asking for the next one, and do not
 * interleave two epochs of one Batcher. Buffers hold batchSize samples; a partial final batch
 * has n < batchSize and only its first n samples are meaningful.
 */
export class Batcher {
  readonly split: ImageSplit;
  readonly batchSize: number;
  readonly seed: number;
  readonly shuffle: boolean;
  readonly lastBatch: 'partial' | 'drop';
  readonly batchesPerEpoch: number;
  /** Number of samples one epoch visits (count, or fewer with lastBatch 'drop'). */
  readonly samplesPerEpoch: number;
  private readonly batch: Batch;
  private readonly order: Uint32Array;
  private orderEpoch = -1;
  /** Views for the two-pixels-at-a-time fill, or null when alignment does not allow it. */
  private readonly pairs: PairViews | null;

  constructor(split: ImageSplit, options: BatcherOptions) {
    checkSplit(split, `Batcher(${split.dataset}/${split.split})`);
    const { batchSize, seed = 0, shuffle = true, lastBatch = 'partial' } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`Batcher: batchSize must be a positive integer, got ${batchSize}`);
    }
    if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
      throw new RangeError(`Batcher: seed must be a 32-bit integer, got ${seed}`);
    }
    if (lastBatch !== 'partial' && lastBatch !== 'drop') {
      throw new RangeError(`Batcher: lastBatch must be 'partial' or 'drop', got ${String(lastBatch)}`);
    }
    this.split = split;
    this.batchSize = batchSize;
    this.seed = seed;
    this.shuffle = shuffle;
    this.lastBatch = lastBatch;
    const full = Math.floor(split.count / batchSize);
    this.batchesPerEpoch = lastBatch === 'drop' || split.count % batchSize === 0 ? full : full + 1;
    this.samplesPerEpoch = lastBatch === 'drop' ? full * batchSize : split.count;
    this.batch = {
      n: 0,
      x: new Float32Array(batchSize * split.rows * split.cols),
      y: new Int32Array(batchSize),
      indices: new Uint32Array(batchSize),
    };
    const px = split.rows * split.cols;
    this.pairs =
      px % 2 === 0 && split.images.byteOffset % 2 === 0
        ? {
            x64: new Float64Array(this.batch.x.buffer, this.batch.x.byteOffset, this.batch.x.length / 2),
            im16: new Uint16Array(split.images.buffer, split.images.byteOffset, split.images.length / 2),
            lut: pixelPairTable(),
          }
        : null;
    this.order = new Uint32Array(split.count);
    if (!shuffle) for (let i = 0; i < split.count; i++) this.order[i] = i;
  }

  /** The sample order of an epoch (a view of an internal buffer, valid until the next call). */
  epochOrder(epoch: number): Uint32Array {
    if (!Number.isSafeInteger(epoch) || epoch < 0) {
      throw new RangeError(`Batcher: epoch must be a non-negative integer, got ${epoch}`);
    }
    if (this.shuffle && this.orderEpoch !== epoch) {
      epochOrderInto(this.order, this.seed, epoch);
      this.orderEpoch = epoch;
    }
    return this.order;
  }

  /** Iterate the batches of one epoch (epochs are usually numbered from 0). */
  epoch(epoch: number): IterableIterator<Batch> {
    const order = this.epochOrder(epoch);
    return new EpochIterator(this, order);
  }

  /**
   * Fill the shared batch with samples order[start .. start+n) and return it. Exposed for
   * callers that index batches themselves; `epoch()` is the usual way in.
   */
  fill(order: ArrayLike<number>, start: number, n: number): Batch {
    if (!Number.isInteger(n) || n < 0 || n > this.batchSize) {
      throw new RangeError(`Batcher.fill: n must be in 0..${this.batchSize}, got ${n}`);
    }
    if (!Number.isInteger(start) || start < 0 || start + n > order.length) {
      throw new RangeError(`Batcher.fill: samples ${start}..${start + n} exceed the order of length ${order.length}`);
    }
    const { images, labels, count } = this.split;
    const px = this.split.rows * this.split.cols;
    const { x, y, indices } = this.batch;
    for (let b = 0; b < n; b++) {
      const idx = order[start + b];
      if (!Number.isInteger(idx) || idx < 0 || idx >= count) throw new RangeError(`Batcher.fill: sample index ${idx} is outside 0..${count - 1}`);
      indices[b] = idx;
      y[b] = labels[idx];
    }
    if (this.pairs !== null) fillPairs(this.pairs, indices, n, px);
    else fillSingles(x, images, indices, n, px);
    this.batch.n = n;
    return this.batch;
  }
}

interface PairViews {
  x64: Float64Array;
  im16: Uint16Array;
  lut: Float64Array;
}

let pairTable: Float64Array | null = null;

/**
 * Two adjacent pixels, read as one uint16 (in memory order), -> their two float32 values
 * (PIXEL_TO_FLOAT) packed in one float64 slot, so one load and one store move two pixels:
 * ~1.5x faster than pixel by pixel, and bit-identical. The packed float64 is never a NaN
 * (each half is a float32 in [0, 1], so the exponent bits are never all ones), hence copied
 * exactly. 512 KiB, built on first use.
 */
function pixelPairTable(): Float64Array {
  if (pairTable === null) {
    const f32 = new Float32Array(2 * 65536);
    const u16 = new Uint16Array(1);
    const u8 = new Uint8Array(u16.buffer);
    for (let v = 0; v < 65536; v++) {
      u16[0] = v;
      f32[2 * v] = PIXEL_TO_FLOAT[u8[0]];
      f32[2 * v + 1] = PIXEL_TO_FLOAT[u8[1]];
    }
    pairTable = new Float64Array(f32.buffer);
  }
  return pairTable;
}

/** x[b] = pixels of sample indices[b] / 255, two pixels per step (px even, views aligned). */
function fillPairs(p: PairViews, indices: Uint32Array, n: number, px: number): void {
  const { x64, im16, lut } = p;
  const half = px >> 1;
  for (let b = 0; b < n; b++) {
    let s = indices[b] * half;
    let d = b * half;
    const e = d + half;
    for (; d + 4 <= e; d += 4, s += 4) {
      x64[d] = lut[im16[s]];
      x64[d + 1] = lut[im16[s + 1]];
      x64[d + 2] = lut[im16[s + 2]];
      x64[d + 3] = lut[im16[s + 3]];
    }
    for (; d < e; d++, s++) x64[d] = lut[im16[s]];
  }
}

/** x[b] = pixels of sample indices[b] / 255, one pixel per step (any alignment). */
function fillSingles(x: Float32Array, images: Uint8Array, indices: Uint32Array, n: number, px: number): void {
  const lut = PIXEL_TO_FLOAT;
  for (let b = 0; b < n; b++) {
    let s = indices[b] * px;
    let d = b * px;
    const e = d + px;
    for (; d < e; d++, s++) x[d] = lut[images[s]];
  }
}

class EpochIterator implements IterableIterator<Batch> {
  private next_ = 0;
  private readonly result: IteratorYieldResult<Batch>;

  constructor(
    private readonly batcher: Batcher,
    private readonly order: Uint32Array,
  ) {
    this.result = { done: false, value: undefined as unknown as Batch };
  }

  next(): IteratorResult<Batch> {
    const { batcher } = this;
    if (this.next_ >= batcher.batchesPerEpoch) return { done: true, value: undefined };
    const start = this.next_ * batcher.batchSize;
    const n = Math.min(batcher.batchSize, batcher.samplesPerEpoch - start);
    this.next_++;
    this.result.value = batcher.fill(this.order, start, n);
    return this.result;
  }

  [Symbol.iterator](): IterableIterator<Batch> {
    return this;
  }
}
