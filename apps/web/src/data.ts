/** Loading the weights file and the test split over HTTP, parsed with the browser-safe entries. */
import { CATALOG, gunzipWeb, parseImageSplit, stratifiedSubset, type DatasetName, type ImageSplit } from '@lenet/datasets';
import { decodeSafetensors, getPreset, initWeights, summarize, validateSpec, validateWeights, type ModelSpec, type Weights } from '@lenet/model';
import { importOnnx, OnnxFormatError } from '@lenet/backend-onnxruntime';
import type { BrowserRun } from './types.js';

export class FetchError extends Error {
  override name = 'FetchError';
}

/** Bytes that are neither a safetensors file nor an ONNX model. */
export class WeightsFormatError extends Error {
  override name = 'WeightsFormatError';
}

export async function fetchBytes(url: string, what: string): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new FetchError(`${what}: fetching ${url} failed: ${(e as Error).message}`);
  }
  if (!res.ok) throw new FetchError(`${what}: ${url} answered HTTP ${res.status}: ${(await res.text()).slice(0, 300)}`);
  return new Uint8Array(await res.arrayBuffer());
}

export interface LoadedModel {
  spec: ModelSpec;
  weights: Weights;
  info: BrowserRun['weights'];
}

/** ONNX files start with a protobuf field tag; safetensors with an 8-byte little-endian length then '{'. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  return bytes.length > 9 && bytes[8] === 0x7b && bytes[6] === 0 && bytes[7] === 0;
}

/**
 * Decodes a safetensors file (spec from its "spec" metadata, as `lenet-bench init/train` write
 * it, else lenet5) or an ONNX file exported by @lenet/backend-onnxruntime (spec from the file).
 */
export function decodeModel(bytes: Uint8Array, source: string): LoadedModel {
  if (looksLikeSafetensors(bytes)) {
    const { weights, metadata } = decodeSafetensors(bytes, source);
    const spec = metadata.spec ? validateSpec(JSON.parse(metadata.spec), `${source} (metadata "spec")`) : getPreset('lenet5');
    validateWeights(spec, weights, source);
    return { spec, weights, info: { source, model: spec.name, params: summarize(spec).totalParams, format: 'safetensors' } };
  }
  let onnx: ReturnType<typeof importOnnx>;
  try {
    onnx = importOnnx(bytes, source);
  } catch (e) {
    if (!(e instanceof OnnxFormatError)) throw e;
    throw new WeightsFormatError(`${source}: neither a safetensors file (8-byte header length, then JSON) nor an ONNX model (${e.message})`);
  }
  const { spec, weights } = onnx;
  return { spec, weights, info: { source, model: spec.name, params: summarize(spec).totalParams, format: 'onnx' } };
}

export async function loadModel(url: string): Promise<LoadedModel> {
  return decodeModel(await fetchBytes(url, 'weights'), url);
}

/** Seeded Xavier init of a preset: what the page uses when no weights file is served. */
export function seededModel(preset: string, seed: number): LoadedModel {
  const spec = getPreset(preset);
  return { spec, weights: initWeights(spec, seed), info: { source: `initWeights(${preset}, seed ${seed})`, model: spec.name, params: summarize(spec).totalParams, format: 'seeded-init' } };
}

/** The test split from the server's /lenet-data/ route; a stratified subset (seed 0) when limited. */
export async function loadTestSplit(dataset: DatasetName, limit: number | null): Promise<{ full: ImageSplit; split: ImageSplit }> {
  const files = CATALOG[dataset].files.test;
  const base = `${import.meta.env.BASE_URL}lenet-data/${dataset}/`;
  const [img, lab] = await Promise.all([
    fetchBytes(base + files.images.file, 'test images').then((b) => gunzipWeb(b, files.images.file)),
    fetchBytes(base + files.labels.file, 'test labels').then((b) => gunzipWeb(b, files.labels.file)),
  ]);
  const full = parseImageSplit(img, lab, { dataset, split: 'test' });
  // Same subset as `lenet-bench --limit N` (stratifiedSubset, seed 0).
  const split = limit !== null && limit < full.count ? stratifiedSubset(full, limit, 0) : full;
  return { full, split };
}
