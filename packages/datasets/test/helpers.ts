import type { ImageSplit } from '../src/index.js';

/**
 * A synthetic split whose first two pixels encode the sample index (see sampleIndexOf), so
 * batches and subsets can be traced back to their source samples. Needs rows*cols >= 2.
 */
export function syntheticSplit(labels: number[], rows = 4, cols = 4, numClasses = 10): ImageSplit {
  const count = labels.length;
  const px = rows * cols;
  const images = new Uint8Array(count * px);
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < px; k++) images[i * px + k] = (i * 31 + k * 7) & 255;
    images[i * px] = i & 255;
    images[i * px + 1] = (i >> 8) & 255;
  }
  return {
    dataset: 'fashion-mnist',
    split: 'train',
    count,
    rows,
    cols,
    images,
    labels: Uint8Array.from(labels),
    classNames: Array.from({ length: numClasses }, (_, k) => `class${k}`),
  };
}

/** The sample index encoded by syntheticSplit in a sample's first two pixels. */
export function sampleIndexOf(pixels: ArrayLike<number>, offset: number): number {
  return pixels[offset] + 256 * pixels[offset + 1];
}
