/** Node-only helpers: ONNX files on disk. */
import { readFile, rename, writeFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ModelSpec, Weights } from '@lenet/model';
import type { ExportOptions } from './export.js';
import { exportOnnx } from './export.js';
import type { ImportedOnnx } from './import.js';
import { importOnnx } from './import.js';
import { OnnxFormatError } from './errors.js';

/** Exports spec + weights and writes the file atomically (temp file in the same folder + rename). */
export async function writeOnnxFile(path: string, spec: ModelSpec, weights: Weights, options?: ExportOptions): Promise<number> {
  const bytes = exportOnnx(spec, weights, options);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
  return bytes.byteLength;
}

/** Reads an ONNX file back to spec + canonical weights; errors name the file. */
export async function readOnnxFile(path: string): Promise<ImportedOnnx> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new OnnxFormatError(path, `cannot read the file: ${(e as Error).message}`, { cause: e });
  }
  return importOnnx(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}
export { measureMatMulPeak } from './peak.js';
export type { MatMulPeak, MatMulPeakOptions } from './peak.js';
