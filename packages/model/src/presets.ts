/** The LeNet presets and the variant builder (d2l 7.6 and its exercise 2). */
import { SpecError, describeValue } from './errors.js';
import { validateSpec } from './spec.js';
import type { ActivationFn, LayerSpec, ModelSpec, PoolMode } from './types.js';

export const PRESET_NAMES = ['lenet5', 'lenet5-modern'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/**
 * Options for a LeNet-shaped network: conv blocks (conv -> activation -> pool), flatten, hidden
 * dense layers (dense -> activation), and a final dense layer producing the logits.
 * Every option defaults to d2l's LeNet-5, so `lenetVariant({})` has lenet5's layers.
 */
export interface LenetVariantOptions {
  /** Spec name. Default "lenet5-variant". */
  name?: string;
  /** [C, H, W]. Default [1, 28, 28]. */
  inputShape?: [number, number, number];
  /** Output channels of each conv block; the length is the number of conv blocks. Default [6, 16]. */
  convChannels?: number[];
  /** Conv kernel size, one for all blocks or one per block. Default 5. */
  kernelSize?: number | number[];
  /**
   * Conv zero padding, one for all blocks or one per block. Default: "same" padding
   * floor(k/2) for the first block (2 for 5x5, as in d2l) and 0 for the others.
   */
  padding?: number | number[];
  /** Hidden dense layers' units, in order. Default [120, 84]. */
  denseUnits?: number[];
  /** Units of the final (logits) dense layer. Default 10. */
  numClasses?: number;
  /** Activation after every conv and hidden dense layer. Default "sigmoid". */
  activation?: ActivationFn;
  /** Pooling after every conv activation. Default "avg". */
  pooling?: PoolMode;
  /** Pooling window (stride = window). Default 2. */
  poolSize?: number;
}

const OPTION_KEYS = [
  'name', 'inputShape', 'convChannels', 'kernelSize', 'padding', 'denseUnits', 'numClasses', 'activation', 'pooling', 'poolSize',
];

function perBlock(option: string, value: number | number[] | undefined, blocks: number, fallback: (i: number) => number): number[] {
  if (value === undefined) return Array.from({ length: blocks }, (_, i) => fallback(i));
  if (Array.isArray(value)) {
    if (value.length !== blocks) {
      throw new SpecError(`lenetVariant: "${option}" has ${value.length} entries but convChannels has ${blocks} (one per conv block)`);
    }
    return [...value];
  }
  return Array.from({ length: blocks }, () => value);
}

/**
 * Builds a LeNet variant spec and validates it (SpecError names the offending layer, e.g. a
 * kernel that no longer fits after pooling). Layer parameter names are conv1.. and fc1...
 */
export function lenetVariant(options: LenetVariantOptions = {}): ModelSpec {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new SpecError(`lenetVariant: options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) throw new SpecError(`lenetVariant: unknown option "${key}" (allowed: ${OPTION_KEYS.join(', ')})`);
  }
  const convChannels = options.convChannels ?? [6, 16];
  const denseUnits = options.denseUnits ?? [120, 84];
  for (const [option, list] of [['convChannels', convChannels], ['denseUnits', denseUnits]] as const) {
    if (!Array.isArray(list)) throw new SpecError(`lenetVariant: "${option}" must be an array of positive integers, got ${describeValue(list)}`);
  }
  const kernels = perBlock('kernelSize', options.kernelSize, convChannels.length, () => 5);
  const paddings = perBlock('padding', options.padding, convChannels.length, (i) => (i === 0 ? Math.floor(kernels[0] / 2) : 0));
  const activation = options.activation ?? 'sigmoid';
  const pooling = options.pooling ?? 'avg';
  const poolSize = options.poolSize ?? 2;

  const layers: LayerSpec[] = [];
  convChannels.forEach((outChannels, i) => {
    layers.push({ type: 'conv2d', name: `conv${i + 1}`, outChannels, kernelSize: kernels[i], padding: paddings[i] });
    layers.push({ type: 'activation', fn: activation });
    layers.push({ type: 'pool2d', mode: pooling, kernelSize: poolSize, stride: poolSize });
  });
  layers.push({ type: 'flatten' });
  denseUnits.forEach((units, i) => {
    layers.push({ type: 'dense', name: `fc${i + 1}`, units });
    layers.push({ type: 'activation', fn: activation });
  });
  layers.push({ type: 'dense', name: `fc${denseUnits.length + 1}`, units: options.numClasses ?? 10 });

  const spec = { name: options.name ?? 'lenet5-variant', inputShape: options.inputShape ?? [1, 28, 28], layers };
  return validateSpec(spec, `lenetVariant(${spec.name})`);
}

/**
 * A fresh copy of a preset:
 * - "lenet5": d2l 7.6 — conv 6@5x5 pad 2, sigmoid, avgpool 2/2, conv 16@5x5, sigmoid,
 *   avgpool 2/2, flatten, dense 120, sigmoid, dense 84, sigmoid, dense 10.
 * - "lenet5-modern": the same with ReLU and max-pooling.
 */
export function getPreset(name: string): ModelSpec {
  switch (name) {
    case 'lenet5':
      return lenetVariant({ name: 'lenet5' });
    case 'lenet5-modern':
      return lenetVariant({ name: 'lenet5-modern', activation: 'relu', pooling: 'max' });
    default:
      throw new SpecError(`Unknown model preset ${describeValue(name)}; valid presets: ${PRESET_NAMES.join(', ')}`);
  }
}
