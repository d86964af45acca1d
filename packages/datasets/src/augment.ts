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
 *
 * Random erasing (Zhong et al. 2017, `erase`), only when enabled with p > 0, so every other
 * configuration draws exactly the numbers above: after an image's shift/flip draws, the same
 * stream gives u = uniformInt(0, 2^24 - 1) / 2^24; when u < p, up to ERASE_ATTEMPTS attempts each
 * draw an area fraction a = areaMin + (areaMax - areaMin)·u1 and a log-aspect
 * ln(aspectMin) + (ln(aspectMax) - ln(aspectMin))·u2 (u1, u2 drawn like u), giving
 * h = round(sqrt(a·rows·cols·aspect)), w = round(sqrt(a·rows·cols / aspect)); the first attempt
 * with 1 <= h <= rows and 1 <= w <= cols draws top = uniformInt(0, rows - h), left =
 * uniformInt(0, cols - w) and sets that h x w rectangle of the shifted/flipped image to 0.
 * An image whose attempts all miss is left as it is (torchvision's RandomErasing rule).
 */
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

export interface AugmentOptions {
  /** Largest translation in pixels along each axis (0 = none). */
  maxShift: number;
  /** Mirror left-right with probability 1/2 (right for clothing, wrong for digits). */
  hflip: boolean;
  /** Random erasing (fill 0, the background); absent, null or p = 0: none. */
  erase?: EraseOptions | null;
}

/** Random erasing of one rectangle per image (Zhong et al. 2017), as torchvision's RandomErasing. */
export interface EraseOptions {
  /** Probability that an image gets a rectangle erased, in [0, 1]. */
  p: number;
  /** Erased area as a fraction of the image, drawn uniformly in [areaMin, areaMax]; 0 < areaMin <= areaMax <= 1. */
  areaMin: number;
  areaMax: number;
  /** Height/width ratio, drawn log-uniformly in [aspectMin, aspectMax]; 0 < aspectMin <= aspectMax. */
  aspectMin: number;
  aspectMax: number;
}

/** Tries per erased image to draw a rectangle that fits (torchvision uses 10). */
export const ERASE_ATTEMPTS = 10;
const UNIT = 0x1000000;

const STREAM_SALT = 0x5eed0a06;

export class BatchAugmenter {
  readonly options: Readonly<AugmentOptions>;
  readonly seed: number;
  private rng: ReturnType<typeof xoroshiro128plus> | null = null;
  private currentEpoch = -1;
  private scratch = new Float32Array(0);
  /** The erasing options when they erase anything (p > 0). */
  private readonly erase: EraseOptions | null;

  constructor(options: AugmentOptions, seed: number, readonly rows = 28, readonly cols = 28) {
    if (!Number.isInteger(options.maxShift) || options.maxShift < 0 || options.maxShift >= Math.min(rows, cols)) {
      throw new RangeError(`BatchAugmenter: maxShift must be an integer in 0..${Math.min(rows, cols) - 1}, got ${String(options.maxShift)}`);
    }
    if (typeof options.hflip !== 'boolean') throw new RangeError(`BatchAugmenter: hflip must be a boolean, got ${String(options.hflip)}`);
    if (!Number.isInteger(seed) || seed < -0x80000000 || seed > 0xffffffff) {
      throw new RangeError(`BatchAugmenter: seed must be a 32-bit integer, got ${seed}`);
    }
    const erase = options.erase ?? null;
    if (erase !== null) checkErase(erase);
    this.options = { maxShift: options.maxShift, hflip: options.hflip, ...(erase !== null ? { erase: { ...erase } } : {}) };
    this.erase = erase !== null && erase.p > 0 ? { ...erase } : null;
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
      const img = x.subarray(i * px, (i + 1) * px);
      if (dy !== 0 || dx !== 0 || flip) this.shiftFlip(img, src, dy, dx, flip);
      if (this.erase) this.eraseOne(img, this.erase);
    }
  }

  /** One image shifted by (dy, dx) and flipped when `flip`, in place (src is scratch). */
  private shiftFlip(img: Float32Array, src: Float32Array, dy: number, dx: number, flip: boolean): void {
    const { rows, cols } = this;
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

  /** The erasing draws of one image (see the header for their order) and the erasing itself. */
  private eraseOne(img: Float32Array, erase: EraseOptions): void {
    const rng = this.rng!;
    const { rows, cols } = this;
    const unit = () => uniformInt(rng, 0, UNIT - 1) / UNIT;
    if (!(unit() < erase.p)) return;
    const logMin = Math.log(erase.aspectMin);
    const logMax = Math.log(erase.aspectMax);
    for (let attempt = 0; attempt < ERASE_ATTEMPTS; attempt++) {
      const area = (erase.areaMin + (erase.areaMax - erase.areaMin) * unit()) * rows * cols;
      const aspect = Math.exp(logMin + (logMax - logMin) * unit());
      const h = Math.round(Math.sqrt(area * aspect));
      const w = Math.round(Math.sqrt(area / aspect));
      if (h < 1 || w < 1 || h > rows || w > cols) continue;
      const top = uniformInt(rng, 0, rows - h);
      const left = uniformInt(rng, 0, cols - w);
      for (let r = top; r < top + h; r++) img.fill(0, r * cols + left, r * cols + left + w);
      return;
    }
  }
}

/** Validates EraseOptions; throws a RangeError naming the field and what was expected. */
export function checkErase(erase: EraseOptions): void {
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const { p, areaMin, areaMax, aspectMin, aspectMax } = erase;
  if (!num(p) || p < 0 || p > 1) throw new RangeError(`BatchAugmenter: erase.p must be a number in [0, 1], got ${String(p)}`);
  if (!num(areaMin) || !num(areaMax) || !(areaMin > 0 && areaMin <= areaMax && areaMax <= 1)) {
    throw new RangeError(`BatchAugmenter: erase.areaMin/areaMax must satisfy 0 < areaMin <= areaMax <= 1, got ${String(areaMin)}..${String(areaMax)}`);
  }
  if (!num(aspectMin) || !num(aspectMax) || !(aspectMin > 0 && aspectMin <= aspectMax)) {
    throw new RangeError(`BatchAugmenter: erase.aspectMin/aspectMax must satisfy 0 < aspectMin <= aspectMax, got ${String(aspectMin)}..${String(aspectMax)}`);
  }
}
