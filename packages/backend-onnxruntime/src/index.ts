export { exportOnnx, SUPPORTED_OPSETS, DEFAULT_OPSET, FORMAT_TAG, META_FORMAT, META_SPEC, INPUT_NAME, OUTPUT_NAME, BATCH_DIM } from './export.js';
export type { ExportOptions, Opset } from './export.js';
export { importOnnx } from './import.js';
export type { ImportedOnnx } from './import.js';
export { buildTrainingGraph, LABELS_NAME, LR_NAME, LOSS_NAME, nextName, gradName } from './training-graph.js';
export type { TrainingGraph, TrainingGraphOptions } from './training-graph.js';
export { OnnxExportError, OnnxFormatError } from './errors.js';
export { ortNodeBackend, ortWebBackend, backends } from './backends.js';
export { PACKAGE_VERSION } from './version.js';
