/** Shapes shared by the IDX reader, the catalog and the batcher. */

export type DatasetName = 'fashion-mnist' | 'mnist';
export type Split = 'train' | 'test';

/** One split of an image-classification dataset, as stored: raw uint8 pixels and labels. */
export interface ImageSplit {
  dataset: DatasetName;
  split: Split;
  /** Number of samples. */
  count: number;
  rows: number;
  cols: number;
  /** count*rows*cols raw pixels (0..255), sample-major. */
  images: Uint8Array;
  /** count class indices. */
  labels: Uint8Array;
  classNames: readonly string[];
}

/** A batch ready for a backend: NCHW float32 pixels/255 and int32 labels. */
export interface Batch {
  /** Number of valid samples in this batch (<= capacity of the buffers). */
  n: number;
  /** Length >= n*rows*cols; only the first n*rows*cols values are meaningful. */
  x: Float32Array;
  /** Length >= n; only the first n values are meaningful. */
  y: Int32Array;
  /** Indices into the split of the samples in this batch (first n valid). */
  indices: Uint32Array;
}
