/**
 * Seeded light data augmentation for training batches: random translations (zero fill) and
 * horizontal flips, applied in place to NCHW float32 images. Browser-safe.
 *
 * Deterministic by construction, so every backend trains on the same augmented bytes:
 * epoch e (0-based) of seed s draws from pure-rand 8 `xoroshiro128plus(s ^ 0x5eed0a06)` jumped e
 * times (its own stream, distinct from the epoch order's), and the batches of that epoch consume
 * it in order. Per image, in this order: dy = uniformInt(-maxShift, maxShift), dx likewise, then
 * (if hflip) flip = uniformInt(0, 1). The output pixel (r, c) is the input pixel
 * (r - dy, c' - dx) where c' = cols - 1 - c when flipped, else c; outside the image it is 0
 * (the datasets' background).
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface AugmentOptions {
  /** Largest translation in pixels along each axis (0 = none). */
  maxShift: number;
  /** Mirror left-right with probability 1/2 (right for clothing, wrong for digits). */
  hflip: boolean;
}

const STREAM_SALT = 0x5eed0a06;

export class BatchAugmenter {
  readonly options: Readonly<AugmentOptions>;
  readonly seed: number;
  private rng: ReturnType<typeof xoroshiro128plus> | null = null;
  private currentEpoch = -1;
  private scratch = new Float32Array(0);

  constructor(options: AugmentOptions, seed: number, readonly rows = 28, readonly cols = 28) {
    if (!Number.isInteger(options.maxShift) || options.maxShift < 0 || options.maxShift >= Math.min(rows, cols)) {
      throw new RangeError(`BatchAugmenter: maxShift must be an integer in 0..${Math.min(rows, cols) - 1}, got ${String(options.maxShift)}`);
    }
    if (typeof options.hflip !== 'boolean') throw new RangeError(`BatchAugmenter: hflip must be a boolean, got ${String(options.hflip)}`);
    if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
      throw new RangeError(`BatchAugmenter: seed must be a 32-bit integer, got ${seed}`);
    }
    this.options = { maxShift: options.maxShift, hflip: options.hflip };
    this.seed = seed;
  }

  /**
   * Augments the first n images of x in place. `epoch` is 0-based; a new epoch (or going back to
   * an earlier one) restarts that epoch's stream, so call it in batch order within an epoch.
   */
  apply(x: Float32Array, n: number, epoch: number): void {
    const { rows, cols } = this;
    const px = rows * cols;
    if (!Number.isInteger(n) || n < 0 || x.length < n * px) {
      throw new RangeError(`BatchAugmenter.apply: x holds ${x.length} floats, fewer than n=${n} images of ${rows}x${cols}`);
    }
    if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`BatchAugmenter.apply: epoch must be a non-negative integer, got ${epoch}`);
    if (this.rng === null || epoch !== this.currentEpoch) {
      this.rng = xoroshiro128plus((this.seed ^ STREAM_SALT) >>> 0);
      for (let e = 0; e < epoch; e++) this.rng.jump();
      this.currentEpoch = epoch;
    }
    const { maxShift, hflip } = this.options;
    if (this.scratch.length < px) this.scratch = new Float32Array(px);
    const src = this.scratch;
    for (let i = 0; i < n; i++) {
      const dy = maxShift > 0 ? uniformInt(this.rng, -maxShift, maxShift) : 0;
      const dx = maxShift > 0 ? uniformInt(this.rng, -maxShift, maxShift) : 0;
      const flip = hflip ? uniformInt(this.rng, 0, 1) === 1 : false;
      if (dy === 0 && dx === 0 && !flip) continue;
      const img = x.subarray(i * px, (i + 1) * px);
      src.set(img);
      for (let r = 0; r < rows; r++) {
        const sr = r - dy;
        const rowOut = r * cols;
        if (sr < 0 || sr >= rows) {
          img.fill(0, rowOut, rowOut + cols);
          continue;
        }
        const rowIn = sr * cols;
        for (let c = 0; c < cols; c++) {
          const sc = (flip ? cols - 1 - c : c) - dx;
          img[rowOut + c] = sc >= 0 && sc < cols ? src[rowIn + sc]! : 0;
        }
      }
    }
  }
}
