/**
 * Reading weights given on the command line: safetensors (our canonical format) or an ONNX
 * model exported by `lenet-bench export-onnx` (its initializers are read back to canonical
 * weights). The spec comes from --model, else from the file (safetensors metadata "spec" written
 * by our CLI, or the ONNX file's graph/metadata), else lenet5.
 */
import { validateSpec, validateWeights, type ModelSpec, type Weights } from '@lenet/model';
import { loadWeightsFile, resolveModel } from '@lenet/model/node';
import { readOnnxFile } from '@lenet/backend-onnxruntime/node';
import { userPath } from './paths.js';

export async function modelFromArg(arg: string): Promise<ModelSpec> {
  return resolveModel(arg.endsWith('.json') ? userPath(arg) : arg);
}

export async function loadWeightsArg(fileArg: string, modelArg?: string): Promise<{ file: string; spec: ModelSpec; weights: Weights; metadata: Record<string, string> }> {
  const file = userPath(fileArg);
  let weights: Weights;
  let metadata: Record<string, string>;
  let fileSpec: ModelSpec | undefined;
  if (file.toLowerCase().endsWith('.onnx')) {
    const imported = await readOnnxFile(file);
    ({ weights, metadata } = imported);
    fileSpec = imported.spec;
  } else {
    ({ weights, metadata } = await loadWeightsFile(file));
    if (metadata.spec) fileSpec = validateSpec(JSON.parse(metadata.spec), `${file} (metadata "spec")`);
  }
  const spec = modelArg ? await modelFromArg(modelArg) : (fileSpec ?? (await modelFromArg('lenet5')));
  validateWeights(spec, weights, file);
  return { file, spec, weights, metadata };
}
