// Node.js: spec and weight files (atomic writes, validated reads).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initWeights } from '@lenet/model';
import { loadWeightsFile, resolveModel, saveWeightsFile } from '@lenet/model/node';

const dir = await mkdtemp(join(tmpdir(), 'lenet-model-'));
const spec = await resolveModel('lenet5'); // a preset name or a path to a spec .json file
const file = join(dir, 'ckpt.safetensors');
await saveWeightsFile(file, initWeights(spec, 0), { seed: '0' }); // temp file + fsync + rename
const { weights, metadata } = await loadWeightsFile(file, spec); // validated against the spec
console.log(weights.size, 'tensors, metadata', metadata);
await rm(dir, { recursive: true });
