/**
 * Reading weights given on the command line: safetensors (our canonical format) or an ONNX
 * model exported by `lenet-bench export-onnx` (its initializers are read back to canonical
 * weights). The spec comes from --model, else from the file (safetensors metadata "spec" written
 * by our CLI, or the ONNX file's graph/metadata), else lenet5.
 */
import { checkModelSize as checkSize, SpecError, specDifference, validateSpec, validateWeights, type ModelSpec, type Weights } from '@lenet/model';
import { loadWeightsFile, resolveModel } from '@lenet/model/node';
import { readOnnxFile } from '@lenet/backend-onnxruntime/node';
import { UsageError } from './errors.js';
import { userPath } from './paths.js';

let allowLargeModel = false;

/** --allow-large-model (global flag): skip the parameter/activation memory bound. */
export function setAllowLargeModel(allow: boolean): void {
  allowLargeModel = allow;
}

/**
 * The memory bound (50M parameters, 256 MiB of activations for a batch of 1000), checked before
 * anything is allocated; the error names the numbers and --allow-large-model.
 */
export function checkModelSize(spec: ModelSpec, source?: string): void {
  if (allowLargeModel) return;
  try {
    checkSize(spec, {}, source);
  } catch (err) {
    if (err instanceof SpecError) {
      err.message = `${err.message}; pass --allow-large-model to run it anyway`;
    }
    throw err;
  }
}

export async function modelFromArg(arg: string): Promise<ModelSpec> {
  const spec = await resolveModel(arg.endsWith('.json') ? userPath(arg) : arg);
  checkModelSize(spec, arg.endsWith('.json') ? userPath(arg) : undefined);
  return spec;
}

/** The "spec" metadata of a safetensors file, parsed and validated; errors name the file. */
function specFromMetadata(text: string, file: string): ModelSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text;
    throw new SpecError(`${file}: metadata "spec" is not valid JSON: expected a model spec JSON object, got ${JSON.stringify(shown)}`, { source: file });
  }
  return validateSpec(parsed, `${file} (metadata "spec")`);
}

/**
 * Weights from --weights/--init with the spec to run them as. With `modelMustMatch` (eval,
 * export-onnx) a --model that differs from the spec stored in the file is a usage error; train
 * --init may start one model from another's weights (same shapes) on purpose.
 */
export async function loadWeightsArg(fileArg: string, modelArg?: string, { modelMustMatch = true } = {}): Promise<{ file: string; spec: ModelSpec; weights: Weights; metadata: Record<string, string> }> {
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
    if (metadata.spec) fileSpec = specFromMetadata(metadata.spec, file);
  }
  const spec = modelArg ? await modelFromArg(modelArg) : (fileSpec ?? (await modelFromArg('lenet5')));
  // A file that says which network it holds is evaluated as that network: a --model that differs
  // would run its weights through other layers (same shapes, wrong accuracy) without a word.
  const differs = modelMustMatch && modelArg && fileSpec ? specDifference(fileSpec, spec) : null;
  if (differs) {
    throw new UsageError(`--model ${modelArg}: ${file} holds model "${fileSpec!.name}", not "${spec.name}" (${differs}); drop --model to use the file's model`);
  }
  checkModelSize(spec, file);
  validateWeights(spec, weights, file);
  return { file, spec, weights, metadata };
}
