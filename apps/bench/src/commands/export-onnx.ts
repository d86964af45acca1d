import { summarize } from '@lenet/model';
import { writeOnnxFile } from '@lenet/backend-onnxruntime/node';
import { int, jsonLine } from '../format.js';
import { userPath } from '../paths.js';
import { checkOutputFile } from '../safety/outputs.js';
import { loadWeightsArg } from '../weights.js';

export async function exportOnnxCommand(opts: { weights: string; out: string; model?: string; opset: number; json?: boolean }): Promise<void> {
  const out = checkOutputFile(userPath(opts.out), '--out');
  const { file, spec, weights } = await loadWeightsArg(opts.weights, opts.model);
  const bytes = await writeOnnxFile(out, spec, weights, { opset: opts.opset as 13 | 14 | 15 });
  const params = summarize(spec).totalParams;
  if (opts.json) jsonLine({ model: spec.name, weights: file, out, opset: opts.opset, bytes, params });
  else process.stdout.write(`wrote ${out}: ${spec.name}, ${int(params)} parameters, opset ${opts.opset}, input "input" [N,${spec.inputShape.join(',')}], output "logits" (${int(bytes)} bytes)\n`);
}
