/**
 * @lenet/datasets — browser-safe entry: types, catalog, IDX parsing, splits, seeded order and
 * batching. File system, gunzip, hashing and download live in `@lenet/datasets/node`.
 */
export type { Batch, DatasetName, ImageSplit, Split } from './types.js';
export { CATALOG, DATASET_NAMES, catalogFiles, isDatasetName } from './catalog.js';
export type { DatasetFileInfo, DatasetInfo } from './catalog.js';
export { IDX_MAX_RANK, IdxError, encodeIdx, gunzipWeb, idxElementSize, isGzip, parseIdx } from './idx.js';
export type { IdxArray, IdxDType, IdxErrorCode } from './idx.js';
export {
  PIXEL_TO_FLOAT,
  checkSplit,
  classCounts,
  parseImageSplit,
  splitToFloat,
  stratifiedSubset,
  stratifiedHoldout,
} from './split.js';
export type { ImageSplitMeta } from './split.js';
export { epochOrder, epochOrderInto } from './order.js';
export { Batcher } from './batcher.js';
export type { BatcherOptions } from './batcher.js';
export { BatchAugmenter, checkErase, ERASE_ATTEMPTS } from './augment.js';
export type { AugmentOptions, EraseOptions } from './augment.js';
