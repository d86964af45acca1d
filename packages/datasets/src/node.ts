/**
 * @lenet/datasets/node — everything that needs Node: reading, gunzipping and hashing files,
 * finding a dataset on this machine, downloading it. Re-exports the browser-safe entry too.
 */
export * from './index.js';
export { ChecksumError, gunzipIfNeeded, readIdxFile, readVerifiedFile, sha256Hex, verifyBytes } from './node/files.js';
export type { VerifiedBytes } from './node/files.js';
export {
  DATA_DIR_ENV,
  DataCorruptError,
  DataNotFoundError,
  SOURCE_KINDS,
  findRepoRoot,
  loadDataset,
  mnistDataDir,
} from './node/load.js';
export type { DataSource, LoadDatasetOptions, LoadedDataset, SearchAttempt, SourceKind } from './node/load.js';
export { downloadFile } from './node/download.js';
export type { DownloadOptions, DownloadProgress } from './node/download.js';
