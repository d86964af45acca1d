/**
 * @lenet/backend-onnxruntime, browser entry ("./web", and "." under the "browser" export
 * condition): ONNX export/import, training graphs and the ort-web backend (`backends` holds only
 * ort-web); no Node built-in is imported (ort-node's loader, unused here, imports by a name
 * bundlers ignore and tree-shaking drops). Needs the optional peer dependency onnxruntime-web.
 */
export { exportOnnx, SUPPORTED_OPSETS, DEFAULT_OPSET, FORMAT_TAG, META_FORMAT, META_SPEC, INPUT_NAME, OUTPUT_NAME, BATCH_DIM } from './export.js';
export type { ExportOptions, Opset } from './export.js';
export { importOnnx } from './import.js';
export type { ImportedOnnx } from './import.js';
export { buildTrainingGraph, LABELS_NAME, LR_NAME, LOSS_NAME, nextName, gradName } from './training-graph.js';
export type { TrainingGraph, TrainingGraphOptions } from './training-graph.js';
export { OnnxExportError, OnnxFormatError } from './errors.js';
export { ortWebBackend } from './backends.js';
import type { TrainingBackend } from '@lenet/core';
import { ortWebBackend } from './backends.js';
/** In browsers only ort-web can run. */
export const backends: TrainingBackend[] = [ortWebBackend];
export { ortWebGpuBackend } from './webgpu.js';
export { PACKAGE_VERSION } from './version.js';
