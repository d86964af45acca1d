// ONNX export and import of a LeNet spec + weights. Needs no ONNX Runtime.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, importOnnx } from '@lenet/backend-onnxruntime';
import { readOnnxFile, writeOnnxFile } from '@lenet/backend-onnxruntime/node';
import { getPreset, initWeights } from '@lenet/model';

const spec = getPreset('lenet5');
const weights = initWeights(spec, 0);
const bytes = exportOnnx(spec, weights); // Uint8Array: input "input" [N,1,28,28], output "logits" [N,10]
const { spec: back, weights: w2 } = importOnnx(bytes, 'in-memory.onnx');
console.log(`${bytes.byteLength} bytes; imported ${back.name} with ${w2.size} tensors`);

const dir = await mkdtemp(join(tmpdir(), 'lenet-onnx-'));
await writeOnnxFile(join(dir, 'lenet5.onnx'), spec, weights); // atomic (temp file + rename)
const fromFile = await readOnnxFile(join(dir, 'lenet5.onnx')); // errors name the file
console.log(fromFile.spec.layers.length, 'layers read back');
await rm(dir, { recursive: true });
