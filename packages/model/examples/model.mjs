// The LeNet spec, its summary, a variant, seeded weights and safetensors bytes.
import {
  decodeSafetensors,
  encodeSafetensors,
  flattenWeights,
  formatSummary,
  getPreset,
  initWeights,
  lenetVariant,
  summarize,
  unflattenWeights,
  validateWeights,
} from '@lenet/model';

const spec = getPreset('lenet5'); // or 'lenet5-modern' (ReLU + max-pooling)
console.log(formatSummary(summarize(spec)));

// d2l 7.6 exercise 2: wider, deeper, other activations; shapes are checked.
const wide = lenetVariant({ name: 'wide', convChannels: [16, 32], denseUnits: [256, 128], activation: 'relu', pooling: 'max' });
console.log(wide.name, summarize(wide).totalParams, 'parameters');

// Xavier-uniform weights, zero biases: bit-identical on every platform for the same seed.
const weights = initWeights(spec, 0); // Map name -> { shape, data: Float32Array }, canonical order
validateWeights(spec, weights, 'initWeights'); // throws a WeightsError naming the parameter
const flat = flattenWeights(spec, weights); // Float32Array(61706)
const again = unflattenWeights(spec, flat); // copies, not views of flat

const bytes = encodeSafetensors(again, { model: 'lenet5', seed: '0' }); // PyTorch's safetensors reads it
const { weights: back, metadata } = decodeSafetensors(bytes, 'in-memory.safetensors');
console.log(bytes.byteLength, 'bytes', metadata, back.get('conv1.weight').shape);
