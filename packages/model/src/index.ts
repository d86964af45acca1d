/**
 * @lenet/model — the LeNet spec, presets and variants, shape inference and summary, seeded
 * Xavier initialisation, weight checks and safetensors I/O. Browser-safe: no Node imports here
 * (file helpers live in "@lenet/model/node").
 */
export type { ActivationFn, PoolMode, Conv2dLayer, ActivationLayer, Pool2dLayer, FlattenLayer, DenseLayer, LayerSpec, ModelSpec, Tensor, Weights, ParamInfo } from './types.js';
export { SpecError, WeightsError, SafetensorsError } from './errors.js';
export { PRESET_NAMES, getPreset, lenetVariant } from './presets.js';
export type { PresetName, LenetVariantOptions } from './presets.js';
export { validateSpec, frozenSpec, inferShapes, summarize, formatSummary, formatCount, paramInfos, numClasses, inputSize, describeLayer, specDifference } from './spec.js';
export type { LayerInfo, ModelSummary } from './spec.js';
export { initWeights, glorotFans, glorotLimit } from './init.js';
export { validateWeights, cloneWeights, flattenWeights, unflattenWeights, shapeSize } from './weights.js';
export { encodeSafetensors, decodeSafetensors } from './safetensors.js';
export type { DecodedSafetensors } from './safetensors.js';
export { checkModelSize, modelSize, ModelSizeError, DEFAULT_MAX_PARAMS, DEFAULT_MAX_ACTIVATION_BYTES, DEFAULT_SIZE_BATCH } from './size.js';
export type { ModelSize, ModelSizeLimits } from './size.js';
