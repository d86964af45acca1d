import { summarize } from '@lenet/model';
import { exportOnnx } from '@lenet/backend-onnxruntime';
import { int, jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { checkOutputFile } from '../safety/outputs.js';
import { writeFileAtomic } from '../safety/write.js';
import { loadWeightsArg } from '../weights.js';

export async function exportOnnxCommand(opts: { weights: string; out: string; model?: string; opset: number; json?: boolean }): Promise<void> {
  const out = checkOutputFile(userPath(opts.out), '--out');
  const { file, spec, weights } = await loadWeightsArg(opts.weights, opts.model);
  const onnx = exportOnnx(spec, weights, { opset: opts.opset as 13 | 14 | 15 });
  await writeFileAtomic(out, onnx);
  const bytes = onnx.byteLength;
  const params = summarize(spec).totalParams;
  if (opts.json) jsonLine({ model: spec.name, weights: file, out, opset: opts.opset, bytes, params });
  else process.stdout.write(`wrote ${out}: ${spec.name}, ${int(params)} parameters, opset ${opts.opset}, input "input" [N,${spec.inputShape.join(',')}], output "logits" (${int(bytes)} bytes)\n`);
}
